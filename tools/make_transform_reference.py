"""Golden values for FedSim's resize and centre crop from torchvision (tensor path, bilinear,
antialias=True), in float64. Run outside CI:
  ../torch-venv/bin/python tools/make_transform_reference.py Tests/Fixtures/transforms.safetensors"""
import sys, torch
import torchvision.transforms.v2.functional as F
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from make_model_reference import tensor_for, write_safetensors

torch.set_default_dtype(torch.float64)
x = torch.from_numpy(tensor_for("image", [1, 2, 13, 17], 7)).double() * 0.5 + 0.5
t = {"input": x.numpy()}
for h, w in [(40, 52), (6, 9), (13, 30), (29, 8)]:
    t[f"resize.{h}x{w}"] = F.resize(x, [h, w], interpolation=F.InterpolationMode.BILINEAR, antialias=True).numpy()
t["resize_short_side.20"] = F.resize(x, 20, antialias=True).numpy()
t["center_crop.9"] = F.center_crop(x, [9, 9]).numpy()
t["center_crop.16"] = F.center_crop(x, [16, 16]).numpy()
write_safetensors(sys.argv[1], t, {"source": "torchvision %s" % __import__("torchvision").__version__})
print("wrote", sys.argv[1], list(t))
