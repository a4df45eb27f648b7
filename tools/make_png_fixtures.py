"""PNG files written by Pillow (an independent encoder, with adaptive per-row filters) in every
colour type FedSim reads, plus the pixels they hold, for the PNG decoder's tests. Run outside CI:
  ../torch-venv/bin/python tools/make_png_fixtures.py Tests/Fixtures/png"""
import os, sys
import numpy as np
from PIL import Image
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from safetensors_writer import write_safetensors

out = sys.argv[1]; os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(3)
h, w = 11, 13
ramp = (np.add.outer(np.arange(h) * 9, np.arange(w) * 7) % 256).astype(np.uint8)
rgb = np.stack([ramp, 255 - ramp, rng.integers(0, 256, (h, w), dtype=np.uint8)], -1)
expected = {}
Image.fromarray(ramp, "L").save(f"{out}/gray.png", optimize=True); expected["gray"] = ramp[None]
Image.fromarray(rgb, "RGB").save(f"{out}/rgb.png", optimize=True); expected["rgb"] = rgb.transpose(2, 0, 1)
Image.fromarray(np.dstack([rgb, ramp]), "RGBA").save(f"{out}/rgba.png"); expected["rgba"] = rgb.transpose(2, 0, 1)
Image.fromarray(np.dstack([ramp, 255 - ramp]), "LA").save(f"{out}/gray-alpha.png"); expected["gray-alpha"] = ramp[None]
pal = Image.fromarray(rgb, "RGB").quantize(colors=16)
pal.save(f"{out}/palette.png"); expected["palette"] = np.asarray(pal.convert("RGB")).transpose(2, 0, 1)
pal4 = Image.fromarray(rgb, "RGB").quantize(colors=4)
pal4.save(f"{out}/palette-2bit.png", bits=2); expected["palette-2bit"] = np.asarray(pal4.convert("RGB")).transpose(2, 0, 1)
g16 = ramp.astype(np.uint16) * 257 + 3
Image.fromarray(g16).save(f"{out}/gray16.png"); expected["gray16"] = (g16 >> 8).astype(np.uint8)[None]
write_safetensors(f"{out}/expected.safetensors", {k: v.astype(np.float32) for k, v in expected.items()}, {"source": "Pillow"})
print("wrote", sorted(os.listdir(out)))
