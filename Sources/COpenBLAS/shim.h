// OpenBLAS's CBLAS interface. Debian keeps cblas.h under the openblas include folder that
// `pkg-config openblas` names, so the target reads its flags from pkg-config.
#include <cblas.h>
