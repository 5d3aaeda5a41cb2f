/* Shared between wasi.c (descriptors, clocks, stdio) and wasi_path.c. */
#ifndef HV_WASI_IMPL_H
#define HV_WASI_IMPL_H

#include <stdint.h>
#include <string.h>

#include "rt.h"
#include "wasi.h"

/* WASI errno values (preview1 spec). */
enum {
    WASI_ESUCCESS = 0,
    WASI_EACCES = 2,
    WASI_EAGAIN = 6,
    WASI_EBADF = 8,
    WASI_EEXIST = 20,
    WASI_EFAULT = 21,
    WASI_EINTR = 27,
    WASI_EINVAL = 28,
    WASI_EIO = 29,
    WASI_EISDIR = 31,
    WASI_ELOOP = 32,
    WASI_EMFILE = 33,
    WASI_ENAMETOOLONG = 37,
    WASI_ENOENT = 44,
    WASI_ENOMEM = 48,
    WASI_ENOSYS = 52,
    WASI_ENOTDIR = 54,
    WASI_ENOTEMPTY = 55,
    WASI_ENOTSUP = 58,
    WASI_EPERM = 63,
    WASI_ERANGE = 68,
    WASI_EROFS = 69,
    WASI_ESPIPE = 70,
    WASI_ENOTCAPABLE = 76,
};

enum { FD_FREE = 0, FD_STDIN, FD_STDOUT, FD_STDERR, FD_DIR, FD_FILE };

enum {
    WASI_FILETYPE_UNKNOWN = 0,
    WASI_FILETYPE_CHAR = 2,
    WASI_FILETYPE_DIR = 3,
    WASI_FILETYPE_FILE = 4,
    WASI_FILETYPE_SYMLINK = 7,
};

#define WASI_RIGHT_FD_SEEK (1ULL << 2)
#define WASI_RIGHT_FD_TELL (1ULL << 5)
#define WASI_RIGHT_FD_WRITE (1ULL << 6)
#define WASI_RIGHT_FD_ALLOCATE (1ULL << 8)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE (1ULL << 22)
#define WASI_RIGHTS_ALL ((1ULL << 30) - 1)

/* Guest memory access; every pointer a guest passes is checked first. */
static inline int wasi__mem_ok(const hv_wasi_t *w, uint32_t ptr, uint64_t len)
{
    return w->mem != NULL && (uint64_t)ptr + len <= w->mem->size;
}

static inline void wasi__put_u32(hv_wasi_t *w, uint32_t ptr, uint32_t v)
{
    memcpy(w->mem->data + ptr, &v, 4);
}

static inline void wasi__put_u64(hv_wasi_t *w, uint32_t ptr, uint64_t v)
{
    memcpy(w->mem->data + ptr, &v, 8);
}

static inline uint32_t wasi__get_u32(const hv_wasi_t *w, uint32_t ptr)
{
    uint32_t v;
    memcpy(&v, w->mem->data + ptr, 4);
    return v;
}

/* Maps a host errno to the WASI errno. */
uint32_t wasi__errno(int host_errno);

/* The descriptor entry for a guest fd, or NULL when not open. */
hv_wasi_fd_t *wasi__fd(hv_wasi_t *w, uint32_t fd);

/* Lowest free guest fd, or -1 when the table is full. */
int wasi__alloc_fd(hv_wasi_t *w);

/* Writes a stat as a WASI filestat (64 bytes) at ptr (already checked). */
struct stat;
void wasi__put_filestat(hv_wasi_t *w, uint32_t ptr, const struct stat *st);

#define WASI_EXPORT(name, params, args)                                                \
    uint32_t Z_wasi_snapshot_preview1Z_##name params;                                  \
    uint32_t Z_wasi_snapshot_preview1Z_##name params                                   \
    {                                                                                  \
        hv_rt_host_enter();                                                            \
        uint32_t r_ = wasi_##name args;                                                \
        hv_rt_host_leave();                                                            \
        return r_;                                                                     \
    }

#endif
