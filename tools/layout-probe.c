// How much of the second core DenseNet-121's dense blocks keep when the two virtual CPUs sit
// apart, under three ownerships (docs/results.md, "A channels-last layout, probed"). Not part of
// the build: a probe for the redesign that the ×1.7 target at two threads would need.
//
// The work is the forward pass of one of DenseNet-121's four dense blocks at 224, batch 1 (56×56
// with 6 layers, 28×28 with 12, 14×14 with 24, 7×7 with 16). Each layer: batch-norm statistics
// and normalise-plus-sigmoid over the concatenation, a 1×1 convolution to 128 channels,
// statistics and normalise-plus-sigmoid again, a 3×3 convolution (unfolded) to 32 channels
// appended to the concatenation; with `grads`, then the layer's two filter gradients over every
// pixel. Three ways to own it between two threads:
//   nchw: channels first, as FedSim stores tensors today; passes split by channels (each a flat
//         run), products by space (the top rows of the image in every plane).
//   nhwc: channels last; everything split by whole rows (each thread's rows one run of memory);
//         the per-channel sums added after a meeting; a 3×3 layer reads one row across the cut.
//   nchw-space: channels first, everything split by rows as nhwc is, so each thread's rows are a
//         run in every plane (the ownership by space FedSim tried, docs/results.md).
// Same products, same passes, same FLOPs. Each round times the three at one thread and at two,
// and reads the latency between the two CPUs (a counter passed through one cache line) before
// and after. PROBE_CHECK=1 also prints each ownership's sums at one thread and at two.
//
// Build and run (OpenBLAS at one thread a call):
//   cc -O3 -march=native -ffast-math -o /tmp/layout-probe tools/layout-probe.c -lopenblas -lpthread -lm
//   /tmp/layout-probe [rounds] [passes a timing] [dense block, 1-4] [grads]
#define _GNU_SOURCE
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int);

enum { GROWTH = 32, BOT = 128, K3 = BOT * 9, MAXC = 1024, MAXL = 24 };
static int H = 56, W = 56, HW = 56 * 56, C0 = 64, LAYERS = 6, CMAX = 256;

static float *cat, *act, *bot, *bact, *patch[2], *w1[MAXL], *w3[MAXL];
static float partial[2][2][MAXC];  // [thread][sum, sum of squares][channel]
static float mean[MAXC], inv[MAXC];
static int nhwc, space, threads, grads;
static float *dw1[2], *dw1sum, *dw3[2], *dw3sum;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

// A meeting of the two threads: sense-reversing spin barrier.
static _Alignas(128) atomic_int arrived;
static _Alignas(128) atomic_int sense;
static void meet(int *local) {
  if (threads == 1) return;
  *local = !*local;
  if (atomic_fetch_add(&arrived, 1) == threads - 1) {
    atomic_store(&arrived, 0);
    atomic_store(&sense, *local);
  } else {
    while (atomic_load(&sense) != *local) __builtin_ia32_pause();
  }
}

static void span(int n, int t, int *lo, int *hi) {
  *lo = (int)((long)n * t / threads);
  *hi = (int)((long)n * (t + 1) / threads);
}

// Batch-norm statistics of channels [0, c) of `x` (row stride `ld` for nhwc), then y = sigmoid of
// the normalised x, into `y` (stride `ldy`).
static void norm_sigmoid(const float *x, int ld, float *y, int ldy, int c, int t, int *sn) {
  int lo, hi;
  if (!space) {  // channels split: every sum local
    span(c, t, &lo, &hi);
    for (int ch = lo; ch < hi; ch++) {
      const float *p = x + (long)ch * HW;
      float s = 0, q = 0;
      for (int i = 0; i < HW; i++) { s += p[i]; q += p[i] * p[i]; }
      float m = s / HW, v = q / HW - m * m;
      float r = 1 / sqrtf(v + 1e-5f);
      float *o = y + (long)ch * HW;
      for (int i = 0; i < HW; i++) o[i] = 1 / (1 + expf(-(p[i] - m) * r));
    }
    meet(sn);
    return;
  }
  span(H, t, &lo, &hi);  // rows split: partial sums, a meeting, the totals, normalise own rows
  lo *= W;
  hi *= W;
  float *s = partial[t][0], *q = partial[t][1];
  memset(s, 0, sizeof(float) * c);
  memset(q, 0, sizeof(float) * c);
  if (nhwc)
    for (int i = lo; i < hi; i++) {
      const float *p = x + (long)i * ld;
      for (int ch = 0; ch < c; ch++) { s[ch] += p[ch]; q[ch] += p[ch] * p[ch]; }
    }
  else
    for (int ch = 0; ch < c; ch++) {
      const float *p = x + (long)ch * HW;
      float a = 0, b = 0;
      for (int i = lo; i < hi; i++) { a += p[i]; b += p[i] * p[i]; }
      s[ch] = a;
      q[ch] = b;
    }
  meet(sn);
  int clo, chi;
  span(c, t, &clo, &chi);
  for (int ch = clo; ch < chi; ch++) {
    float ss = 0, qq = 0;
    for (int u = 0; u < threads; u++) { ss += partial[u][0][ch]; qq += partial[u][1][ch]; }
    float m = ss / HW;
    mean[ch] = m;
    inv[ch] = 1 / sqrtf(qq / HW - m * m + 1e-5f);
  }
  meet(sn);
  if (nhwc)
    for (int i = lo; i < hi; i++) {
      const float *p = x + (long)i * ld;
      float *o = y + (long)i * ldy;
      for (int ch = 0; ch < c; ch++) o[ch] = 1 / (1 + expf(-(p[ch] - mean[ch]) * inv[ch]));
    }
  else
    for (int ch = 0; ch < c; ch++) {
      const float *p = x + (long)ch * HW;
      float *o = y + (long)ch * HW, m = mean[ch], r = inv[ch];
      for (int i = lo; i < hi; i++) o[i] = 1 / (1 + expf(-(p[i] - m) * r));
    }
  meet(sn);
}

// Unfolds a 3×3, pad-1 window of `x` (BOT channels) for output pixels [lo, hi), whole rows of
// the image, into `p`: nhwc a row of K3 a pixel, nchw a row of the pixels a (channel, offset).
static void unfold(const float *x, int lo, int hi, float *p) {
  int n = hi - lo;
  for (int k = 0; k < 9; k++) {
    int dy = k / 3 - 1, dx = k % 3 - 1;
    for (int pix = lo; pix < hi; pix += W) {
      int rr = pix / W + dy;
      for (int col = 0; col < W; col++) {
        int cc = col + dx;
        int inside = rr >= 0 && rr < H && cc >= 0 && cc < W;
        if (nhwc) {
          float *o = p + (long)(pix + col - lo) * K3 + k * BOT;
          if (inside) memcpy(o, x + (long)(rr * W + cc) * BOT, sizeof(float) * BOT);
          else memset(o, 0, sizeof(float) * BOT);
        }
      }
      if (!nhwc)
        for (int ch = 0; ch < BOT; ch++) {
          float *o = p + (long)(ch * 9 + k) * n + (pix - lo);
          if (rr < 0 || rr >= H) { memset(o, 0, sizeof(float) * W); continue; }
          const float *i = x + (long)ch * HW + rr * W;
          for (int col = 0; col < W; col++) {
            int cc = col + dx;
            o[col] = cc >= 0 && cc < W ? i[cc] : 0;
          }
        }
    }
  }
}

// Each thread adds its span of the threads' partial sums (after a meeting).
static void add_partials(float **part, float *sum, long count, int t) {
  long lo = count * t / threads, hi = count * (t + 1) / threads;
  for (long i = lo; i < hi; i++) {
    float s = 0;
    for (int u = 0; u < threads; u++) s += part[u][i];
    sum[i] = s;
  }
}

// The layer's two filter gradients, standing in for the backward passes' sums over pixels (the
// layer's own outputs as the output gradients): the 3×3 one from each thread's own unfolded rows,
// a partial each, added; the 1×1 one split by output channels over every pixel (nchw, as the
// passes split), or a partial each from the thread's own rows, added (nhwc, nchw-space).
static void filter_gradients(int l, int t, int lo, int hi, int *sn) {
  int c = C0 + GROWTH * l, n = hi - lo;
  float *out = nhwc ? cat + c : cat + (long)c * HW;
  if (nhwc)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GROWTH, K3, n, 1, out + (long)lo * CMAX, CMAX,
                patch[t], K3, 0, dw3[t], K3);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, GROWTH, K3, n, 1, out + lo, HW, patch[t], n, 0,
                dw3[t], K3);
  if (!space) {
    int clo, chi;
    span(BOT, t, &clo, &chi);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, chi - clo, c, HW, 1, bot + (long)clo * HW, HW,
                act, HW, 0, dw1sum + (long)clo * c, c);
  } else if (nhwc) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, BOT, c, n, 1, bot + (long)lo * BOT, BOT,
                act + (long)lo * CMAX, CMAX, 0, dw1[t], c);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BOT, c, n, 1, bot + lo, HW, act + lo, HW, 0,
                dw1[t], c);
  }
  meet(sn);
  add_partials(dw3, dw3sum, (long)GROWTH * K3, t);
  if (space) add_partials(dw1, dw1sum, (long)BOT * c, t);
  meet(sn);
}

static void layer(int l, int t, int *sn) {
  int c = C0 + GROWTH * l, lo, hi;
  span(H, t, &lo, &hi);  // whole rows of the image
  lo *= W;
  hi *= W;
  int n = hi - lo;
  norm_sigmoid(cat, CMAX, act, CMAX, c, t, sn);
  if (nhwc)  // bot[rows] = act[rows, c] · w1ᵀ
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, BOT, c, 1, act + (long)lo * CMAX, CMAX,
                w1[l], c, 0, bot + (long)lo * BOT, BOT);
  else  // bot[:, cols] = w1 · act[:c, cols]
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BOT, n, c, 1, w1[l], c, act + lo, HW, 0,
                bot + lo, HW);
  meet(sn);
  norm_sigmoid(bot, BOT, bact, BOT, BOT, t, sn);
  unfold(bact, lo, hi, patch[t]);
  float *out = nhwc ? cat + c : cat + (long)c * HW;
  if (nhwc)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, GROWTH, K3, 1, patch[t], K3, w3[l], K3,
                0, out + (long)lo * CMAX, CMAX);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, GROWTH, n, K3, 1, w3[l], K3, patch[t], n,
                0, out + lo, HW);
  meet(sn);
  if (grads) filter_gradients(l, t, lo, hi, sn);
}

static int passes;
static atomic_int go, done, quit;
static int sense_of[2];

static void block(int t) {
  for (int p = 0; p < passes; p++)
    for (int l = 0; l < LAYERS; l++) layer(l, t, &sense_of[t]);
}

// Ping-pong through one line with the worker: ns a one-way pass.
static _Alignas(128) atomic_long ball;
static atomic_int want_ping;
static double ping(void) {
  atomic_store(&ball, 0);
  atomic_store(&want_ping, 1);
  double t0 = now();
  long n = 20000;
  for (long i = 0; i < n; i++) {
    atomic_store(&ball, 2 * i + 1);
    while (atomic_load(&ball) != 2 * i + 2) __builtin_ia32_pause();
  }
  double ns = (now() - t0) * 1e9 / (2.0 * n);
  atomic_store(&want_ping, 0);
  atomic_store(&ball, -1);
  return ns;
}

static void *worker(void *unused) {
  (void)unused;
  pin(1);
  openblas_set_num_threads(1);
  for (int seen = 0;;) {
    if (atomic_load(&quit)) return NULL;
    if (atomic_load(&want_ping)) {
      for (long i = 0;; i++) {
        long b;
        while ((b = atomic_load(&ball)) != 2 * i + 1 && b != -1) __builtin_ia32_pause();
        if (b == -1) break;
        atomic_store(&ball, 2 * i + 2);
      }
      continue;
    }
    int g = atomic_load(&go);
    if (g == seen) { __builtin_ia32_pause(); continue; }
    seen = g;
    block(1);
    atomic_fetch_add(&done, 1);
  }
}

static double timed(int layout, int nthreads) {
  nhwc = layout == 1;
  space = layout != 0;
  threads = nthreads;
  sense_of[0] = sense_of[1] = atomic_load(&sense);
  double t0 = now();
  if (nthreads == 2) {
    int d = atomic_load(&done);
    atomic_fetch_add(&go, 1);
    block(0);
    while (atomic_load(&done) == d) __builtin_ia32_pause();
  } else {
    block(0);
  }
  return (now() - t0) * 1e3 / passes;
}

static float *filled(long n, unsigned seed) {
  float *p = aligned_alloc(64, ((sizeof(float) * n + 63) / 64) * 64);
  for (long i = 0; i < n; i++) { seed = seed * 1664525u + 1013904223u; p[i] = (seed >> 8) * (1.0f / 16777216) - 0.5f; }
  return p;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 8;
  passes = argc > 2 ? atoi(argv[2]) : 10;
  int blockno = argc > 3 ? atoi(argv[3]) : 1;  // DenseNet-121's dense blocks at 224: 1 to 4
  grads = argc > 4 && strcmp(argv[4], "grads") == 0;  // and each layer's two filter gradients
  int sizes[] = {56, 28, 14, 7}, inputs[] = {64, 128, 256, 512}, layers[] = {6, 12, 24, 16};
  if (blockno < 1 || blockno > 4) { fprintf(stderr, "block: 1 to 4\n"); return 2; }
  H = W = sizes[blockno - 1];
  HW = H * W;
  C0 = inputs[blockno - 1];
  LAYERS = layers[blockno - 1];
  CMAX = C0 + GROWTH * LAYERS;
  pin(0);
  openblas_set_num_threads(1);
  cat = filled((long)CMAX * HW, 1);
  act = filled((long)CMAX * HW, 2);
  bot = filled((long)BOT * HW, 3);
  bact = filled((long)BOT * HW, 4);
  patch[0] = filled((long)K3 * HW, 5);
  patch[1] = filled((long)K3 * HW, 6);
  for (int u = 0; u < 2; u++) {
    dw1[u] = filled((long)BOT * CMAX, 30 + u);
    dw3[u] = filled((long)GROWTH * K3, 32 + u);
  }
  dw1sum = filled((long)BOT * CMAX, 34);
  dw3sum = filled((long)GROWTH * K3, 35);
  for (int l = 0; l < LAYERS; l++) {
    w1[l] = filled((long)BOT * (C0 + GROWTH * l), 10 + l);
    w3[l] = filled((long)GROWTH * K3, 20 + l);
  }
  pthread_t th;
  pthread_create(&th, NULL, worker, NULL);
  double flop = 0;
  for (int l = 0; l < LAYERS; l++) flop += (grads ? 4.0 : 2.0) * HW * (BOT * (C0 + GROWTH * l) + GROWTH * K3);
  printf("dense block %d forward%s (%dx%d, %d layers), %.2f GFLOP a pass, %d passes a timing\n", blockno,
         grads ? " and filter gradients" : "", H, W, LAYERS, flop / 1e9, passes);
  printf("round  ns before/after   nchw 1T  2T  ratio    nhwc 1T  2T  ratio    nchw-space 1T  2T  ratio\n");
  for (int r = 0; r < rounds; r++) {
    double before = ping(), ms[3][2];
    for (int layout = 0; layout < 3; layout++)
      for (int n = 1; n <= 2; n++) ms[layout][n - 1] = timed(layout, n);
    double after = ping();
    if (getenv("PROBE_CHECK")) {  // each layout's block at one thread and at two: the same sums
      for (int layout = 0; layout < 3; layout++) {
        double sum[2];
        for (int n = 1; n <= 2; n++) {
          timed(layout, n);
          sum[n - 1] = 0;
          for (long i = 0; i < (long)CMAX * HW; i++) sum[n - 1] += cat[i];
        }
        printf("layout %d: sum at one thread %.6f, at two %.6f\n", layout, sum[0], sum[1]);
      }
    }
    printf("%5d  %6.0f %6.0f", r, before, after);
    for (int layout = 0; layout < 3; layout++)
      printf("   %7.2f %6.2f x%.2f", ms[layout][0], ms[layout][1], ms[layout][0] / ms[layout][1]);
    printf("\n");
    fflush(stdout);
  }
  atomic_store(&quit, 1);
  pthread_join(th, NULL);
  return 0;
}
