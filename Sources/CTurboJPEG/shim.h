// libjpeg-turbo's TurboJPEG API (Debian's libturbojpeg0-dev), for JPEG pictures and image folders.
#include <turbojpeg.h>
