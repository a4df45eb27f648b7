import Foundation
import Mustache

/// The live view's page: a Mustache template, filled once, whose script takes each state the
/// WebSocket pushes. It fills a projector's screen: the picture as large as the window allows,
/// the figures beside it in large type, "finished" and the summary at the end.
enum LivePage {
  static let template = """
    <!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{title}}</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>
    html,body{margin:0;height:100%;background:#111;color:#eee;font-family:system-ui,sans-serif}
    main{display:flex;height:100vh;align-items:center;justify-content:center;gap:4vw;padding:2vh 3vw;box-sizing:border-box}
    #pic{height:86vh;max-width:55vw;object-fit:contain;image-rendering:pixelated;display:none}
    #wait{font-size:3vh;color:#888;width:40vw;text-align:center}
    aside{font-size:2.6vh;line-height:1.45;max-width:38vw;max-height:96vh;overflow:hidden}
    h1{font-size:3.4vh;margin:0 0 1vh}
    .big{font-size:7vh;font-weight:700}.label{color:#999}.done{color:#7c7}
    ul{padding-left:1.2em;font-size:2vh;line-height:1.3;margin:1vh 0}
    </style></head><body><main>
    <img id="pic" alt="{{pictureAlt}}"><div id="wait">{{waiting}}</div>
    <aside><h1>{{heading}}</h1>
    <div id="where" class="label"></div>
    <div class="label">{{psnrLegend}}</div><div id="psnr" class="big">—</div>
    <div id="attack"></div><div id="fed"></div><div id="state"></div><ul id="summary"></ul>
    <p class="label">{{pictureLegend}}</p></aside></main>
    <script>
    const $=id=>document.getElementById(id);let version='';
    function show(s){
      $('where').textContent=(s.points?('point '+s.point+' of '+s.points+' · '):'')+(s.setting||'')+(s.victim?(' · '+s.victim):'');
      $('psnr').textContent=s.psnr!=null?s.psnr.toFixed(1)+' dB':'—';
      $('attack').textContent=s.iteration!=null?('attack iteration '+s.iteration+' of '+s.of+' · gradient distance '+Number(s.distance).toExponential(2)):'';
      $('fed').textContent='clients '+s.clients+' · rounds done '+s.rounds+(s.accuracy!=null?(' · test accuracy '+s.accuracy.toFixed(1)+'%'):'');
      $('state').innerHTML=s.finished?'<span class="done">{{finished}}</span>':'';
      $('summary').innerHTML='';for(const l of s.summary){const li=document.createElement('li');li.textContent=l;$('summary').appendChild(li);}
      if(s.picture&&s.version!==version){version=s.version;const img=new Image();
        img.onload=()=>{$('pic').src=img.src;$('pic').style.display='block';$('wait').style.display='none';};img.src='/live.png?v='+Date.now();}
    }
    function connect(){const ws=new WebSocket('ws://'+location.host+'/socket');
      ws.onmessage=e=>show(JSON.parse(e.data));ws.onclose=()=>setTimeout(connect,1000);}
    connect();
    </script></body></html>
    """

  static let words: [String: String] = [
    "title": "FedSim live",
    "heading": "What the honest-but-curious server sees",
    "waiting": "waiting for the first reconstruction…",
    "pictureAlt": "the client's private image above the server's reconstruction",
    "pictureLegend": "top: the client's private image · bottom: the server's reconstruction, from the shared gradient alone",
    "psnrLegend": "PSNR of the reconstruction (30 dB and up: recognisable; higher is a closer copy)",
    "finished": "finished",
  ]

  /// The page, its template filled with its words.
  static func render() -> String {
    guard let t = try? MustacheTemplate(string: template) else { return "<!doctype html><p>the live page's template does not parse</p>" }
    return t.render(words)
  }
}
