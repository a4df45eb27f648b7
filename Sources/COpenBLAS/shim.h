// OpenBLAS's CBLAS interface. Debian keeps cblas.h under the openblas include folder that
// `pkg-config openblas` names, so the target reads its flags from pkg-config.
#include <cblas.h>

// glibc's allocator tuning (mallopt), which the kernels use to keep large scratch blocks in the
// process between evaluations. Declared here because Swift's Glibc module leaves out malloc.h,
// and a C function must be called with the C calling convention.
#if defined(__linux__)
#include <malloc.h>
#endif

// LAPACK, which OpenBLAS ships (a Fortran symbol; Debian has no lapacke.h beside it): Cholesky
// factorisation with complete pivoting, which reveals the rank, for R-GAP's per-layer normal
// equations.
void dpstrf_(const char *uplo, const int *n, double *a, const int *lda, int *piv, int *rank,
             const double *tol, double *work, int *info);

// LAPACK's symmetric eigen-decomposition (eigenvalues ascending), for the column space of
// R-GAP's last-layer gradient at a batch.
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
            double *work, const int *lwork, int *info);
