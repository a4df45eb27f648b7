"""Small SVHN-layout MATLAB v5 files written by SciPy (an independent writer), for the reader's
tests: X uint8 32x32x3xN (column-major, as SVHN's *_32x32.mat), y double Nx1 with labels 1-10
(10 means digit 0). Run: python3 tools/make_svhn_fixture.py Tests/Fixtures/svhn"""
import sys, numpy as np, scipy.io
out = sys.argv[1]
rng = np.random.default_rng(5)
X = rng.integers(0, 256, (32, 32, 3, 6), dtype=np.uint8)
y = np.array([[1], [10], [3], [10], [7], [2]], dtype=np.float64)
scipy.io.savemat(f"{out}/test_32x32.mat", {"X": X, "y": y}, do_compression=True, format="5")
scipy.io.savemat(f"{out}/uncompressed_32x32.mat", {"y": y.astype(np.uint8), "X": X}, do_compression=False, format="5")
# What the reader must produce: image n, channel c, row r, column k = X[r, k, c, n].
np.save(f"{out}/expected-pixels.npy", X.transpose(3, 2, 0, 1).copy())
print(X[0, 1, 0, 0], X[1, 0, 0, 0], X[5, 7, 2, 4])
