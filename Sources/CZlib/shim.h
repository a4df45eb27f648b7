// zlib's inflate/deflate, for gzip-compressed IDX files, PNG and MATLAB v5 compressed elements.
#include <zlib.h>
