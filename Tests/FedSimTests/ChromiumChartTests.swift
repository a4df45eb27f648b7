import FedData
@testable import FedSimKit
import FedSimCore
import Foundation
import TestSupport
import Testing

/// The report's charts as a real browser draws them: headless Chromium renders a chart's SVG to
/// a PNG, and the pixels must sit where the data says (under CI Chromium must be installed;
/// elsewhere the test skips, saying so).
@Suite("Charts in Chromium")
struct ChromiumChartTests {
  static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

  /// `svg` rendered by Chromium at its own size, one device pixel per SVG unit.
  func render(_ svg: String, width: Int, height: Int) throws -> DecodedImage {
    let dir = TemporaryPath.make("fedsim-chromium")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try svg.write(toFile: dir + "/chart.svg", atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Self.chromium!)
    p.arguments = [
      "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
      "--user-data-dir=\(dir)/profile", "--window-size=\(width),\(height)", "--screenshot=\(dir)/chart.png", "file://\(dir)/chart.svg",
    ]
    (p.standardOutput, p.standardError) = (FileHandle.nullDevice, FileHandle.nullDevice)
    try p.run()
    p.waitUntilExit()
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/chart.png")))
    return try PNG.decode(bytes, path: "chart.png")
  }

  /// The pixels of `image` within `tolerance` of the colour, as (x, y).
  func pixels(_ image: DecodedImage, _ rgb: (Int, Int, Int), tolerance: Int = 12) -> [(Int, Int)] {
    let plane = image.width * image.height
    var out: [(Int, Int)] = []
    for y in 0..<image.height {
      for x in 0..<image.width {
        let i = y * image.width + x
        let (r, g, b) = (Int(image.pixels[i]), Int(image.pixels[plane + i]), Int(image.pixels[2 * plane + i]))
        if abs(r - rgb.0) <= tolerance && abs(g - rgb.1) <= tolerance && abs(b - rgb.2) <= tolerance { out.append((x, y)) }
      }
    }
    return out
  }

  @Test("a log-axis PSNR chart: the curve falls from left to right, the threshold is a red line at 30 dB")
  func logChart() throws {
    guard Self.chromium != nil else {
      if SharedData.isCI { Issue.record("chromium is not installed (.ci/run installs Debian's chromium)") } else {
        print("skipped: chromium is not installed")
      }
      return
    }
    let settings = try [0, 0.0001, 0.001, 0.01, 0.1].map { v in
      try LeakageChartTests().setting("gaussian_noise=\(v)", [52 - 450 * v, 48 - 450 * v])
    }
    let chart = LeakageChart(data: SweepSeries(settings) { $0.psnr }, metric: "PSNR (dB)", threshold: 30)
    let image = try render(chart.render(), width: Int(LeakageChart.width), height: Int(LeakageChart.height))
    #expect(image.channels == 3 && image.width == Int(LeakageChart.width))
    // The series (#1f77b4): its leftmost pixels (the off point, 50 dB) sit above its rightmost (5 dB).
    let blue = pixels(image, (0x1f, 0x77, 0xb4))
    #expect(blue.count > 200, "the curve is not drawn")
    let (minX, maxX) = (blue.map(\.0).min() ?? 0, blue.map(\.0).max() ?? 0)
    let leftmost: [Int] = blue.filter { $0.0 <= minX + 3 }.map(\.1)
    let rightmost: [Int] = blue.filter { $0.0 >= maxX - 3 }.map(\.1)
    let leftY = Double(leftmost.reduce(0, +)) / Double(Swift.max(1, leftmost.count))
    let rightY = Double(rightmost.reduce(0, +)) / Double(Swift.max(1, rightmost.count))
    #expect(leftY < rightY - 100, "left \(leftY), right \(rightY)")
    // Each point where the data puts it (x from the axis, y from its mean), within 3 pixels.
    let x = chart.xAxis()
    for (v, mean) in [(0.001, 49.55), (0.01, 45.5), (0.1, 5.0)] {
      let (px, py) = (x.position(v), chart.py(mean, chart.yAxis))
      #expect(blue.contains { abs(Double($0.0) - px) <= 3 && abs(Double($0.1) - py) <= 3 }, "no point at \(v)")
    }
    // The threshold (#d62728, dashed): red pixels along the row of 30 dB across the plot.
    let row = Int(chart.py(30, chart.yAxis).rounded())
    let plane = image.width * image.height
    let red = (Swift.max(0, row - 2)...Swift.min(image.height - 1, row + 2)).flatMap { y in
      (0..<image.width).filter { x in
        let i = y * image.width + x
        let (r, g, b) = (Int(image.pixels[i]), Int(image.pixels[plane + i]), Int(image.pixels[2 * plane + i]))
        return r > g + 60 && r > b + 60  // red, however anti-aliasing lightens it
      }
    }
    #expect(red.count > 150, "the threshold line is missing at y \(row): \(red.count) red pixels")
  }
}
