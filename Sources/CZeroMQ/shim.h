// libzmq's C API. Linked without pkg-config: its .pc adds an -isystem flag SwiftPM warns about.
#include <zmq.h>
