"""JPEG files written by Pillow (its own bundled libjpeg-turbo, an independent build of the
encoder) in the forms FedSim reads, plus the pixels Pillow decodes from them, for the JPEG
decoder's tests; and a CMYK file, which FedSim refuses. Run outside CI:
  ../torch-venv/bin/python tools/make_jpeg_fixtures.py Tests/Fixtures/jpeg"""
import os, sys
import numpy as np
from PIL import Image
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from safetensors_writer import write_safetensors

out = sys.argv[1]; os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(5)
h, w = 19, 23  # odd sides: the chroma upsampling's edges are exercised
yy, xx = np.mgrid[0:h, 0:w]
ramp = ((yy * 11 + xx * 7) % 256).astype(np.uint8)
rgb = np.stack([ramp, (255 - ramp) // 2 + (xx * 3).astype(np.uint8), rng.integers(0, 256, (h, w), dtype=np.uint8)], -1)
forms = {
    "rgb-420": (Image.fromarray(rgb, "RGB"), dict(quality=85, subsampling=2)),
    "rgb-444": (Image.fromarray(rgb, "RGB"), dict(quality=95, subsampling=0)),
    "progressive": (Image.fromarray(rgb, "RGB"), dict(quality=75, progressive=True)),
    "gray": (Image.fromarray(ramp, "L"), dict(quality=90)),
}
expected = {}
for name, (image, options) in forms.items():
    path = f"{out}/{name}.jpg"
    image.save(path, **options)
    decoded = np.asarray(Image.open(path))
    expected[name] = decoded[None] if decoded.ndim == 2 else decoded.transpose(2, 0, 1)
Image.fromarray(rgb, "RGB").convert("CMYK").save(f"{out}/cmyk.jpg", quality=90)
write_safetensors(f"{out}/expected.safetensors", {k: v.astype(np.float32) for k, v in expected.items()},
                  {"source": "Pillow " + Image.__version__})
print("wrote", sorted(os.listdir(out)))
