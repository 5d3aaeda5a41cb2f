/* One error space for the whole daemon: negative codes, one hv_strerror. */
#ifndef HV_ERROR_H
#define HV_ERROR_H

#define HV_ERRNO_MAP(XX)                                                          \
    XX(NOMEM, "out of memory")                                                    \
    XX(INVAL, "invalid argument")                                                 \
    XX(IO, "input/output error")                                                  \
    XX(NOENT, "no such file or directory")                                        \
    XX(BADWASM, "not a valid WebAssembly module")                                 \
    XX(AOT, "ahead-of-time compilation failed")                                   \
    XX(LOAD, "cannot load compiled module")                                       \
    XX(TRAP_OOB, "trap: out-of-bounds memory access")                             \
    XX(TRAP_INT_OVERFLOW, "trap: integer overflow")                               \
    XX(TRAP_DIV_BY_ZERO, "trap: integer divide by zero")                          \
    XX(TRAP_CONVERSION, "trap: invalid conversion to integer")                    \
    XX(TRAP_UNREACHABLE, "trap: unreachable executed")                            \
    XX(TRAP_CALL_INDIRECT, "trap: invalid indirect call")                         \
    XX(TRAP_EXCEPTION, "trap: uncaught wasm exception")                           \
    XX(TRAP_EXHAUSTION, "trap: call stack exhausted")                             \
    XX(TRAP_DEADLINE, "trap: deadline exceeded")                                  \
    XX(EXIT, "guest called exit")                                                 \
    XX(EXCEPTION, "uncaught Python exception")                                    \
    XX(DEAD, "instance is unusable after a trap")                                 \
    XX(BUSY, "resource busy")                                                     \
    XX(PERM, "permission denied")                                                 \
    XX(RANGE, "value out of range")                                               \
    XX(TOOBIG, "size over limit")

typedef enum {
    HV_OK = 0,
#define HV__ERRNO_ENUM(name, msg) HV_E##name,
    HV__ERRNO_FIRST = -1000,
    HV_ERRNO_MAP(HV__ERRNO_ENUM)
#undef HV__ERRNO_ENUM
    HV__ERRNO_END
} hv_err_t;

/* Static text for an hv_err_t (or "unknown error"); never NULL. */
const char *hv_strerror(int err);

/* Short symbolic name ("HV_ETRAP_OOB"); never NULL. */
const char *hv_err_name(int err);

#endif
