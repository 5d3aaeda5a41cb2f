/*
 * The Linux backend without hardware: the syscall seam (src/hal/linux_impl.h)
 * is replaced by recorders that check the exact ioctl requests and
 * structures, termios settings, libgpiod line requests and bytes, and
 * answer like the devices. Device nodes (/dev/...) are never opened for
 * real; /proc, /sys and the IIO tree are a fake tree under a mkdtemp dir.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <linux/spi/spidev.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/hal/linux_impl.h"
#include "hv_log.h"

/* ---- the recorder ------------------------------------------------------- */

#define FAKE_FD0 10000
#define MAX_OPENS 32
#define MAX_IOCTLS 16
#define XBUF (HV_HAL_MAX_XFER + 8)

typedef struct {
    int fd;
    unsigned long req;
    uint32_t value; /* SPI_IOC_WR_*: the value written */
    unsigned nmsgs; /* I2C_RDWR */
    struct i2c_msg msg[2];
    uint8_t wdata[2][64];         /* write messages' bytes */
    struct spi_ioc_transfer xfer; /* SPI_IOC_MESSAGE(1) */
    uint8_t tx[XBUF];
} ioctl_rec_t;

static struct {
    /* opens of device nodes */
    char open_path[MAX_OPENS][256];
    int open_flags[MAX_OPENS];
    int nopens, ncloses;
    const char *missing; /* a device node that does not exist */
    /* ioctls */
    ioctl_rec_t io[MAX_IOCTLS];
    int nio;
    int ioctl_errno; /* the next I2C_RDWR / SPI message fails so */
    /* uart */
    int uart_fd;
    uint8_t rx[64];
    size_t rx_len;
    uint8_t tx[256];
    size_t tx_len;
    size_t write_chunk; /* at most this many bytes per write(), then one EAGAIN */
    int eagain_next, npolls;
    struct termios tios;
    int ntcset;
    /* files read through the seam (the dht11 driver) */
    char real_path[64][512]; /* by fd */
    int eio_left;            /* in_temp_input reads that fail with EIO */
    int value_reads;
    /* time */
    uint64_t now;
    /* gpio: an event log, one line each */
    char log[4096];
    int chip_missing, chip_open, chip_closed;
    int line_flags[64], line_requested[64], line_level[64];
} fk;

static char line_objs[64];
static char chip_obj;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    size_t n = strlen(fk.log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fk.log + n, sizeof fk.log - n, fmt, ap);
    va_end(ap);
    n = strlen(fk.log);
    snprintf(fk.log + n, sizeof fk.log - n, "\n");
}

static int fake_open(const char *path, int flags, mode_t mode)
{
    if (strncmp(path, "/dev/", 5) == 0) {
        if (fk.missing != NULL && strcmp(path, fk.missing) == 0) {
            errno = ENOENT;
            return -1;
        }
        assert_true(fk.nopens < MAX_OPENS);
        snprintf(fk.open_path[fk.nopens], sizeof fk.open_path[0], "%s", path);
        fk.open_flags[fk.nopens] = flags;
        int fd = FAKE_FD0 + fk.nopens++;
        if (strstr(path, "tty") != NULL)
            fk.uart_fd = fd;
        return fd;
    }
    /* the fake tree */
    int fd = open(path, flags, mode);
    if (fd >= 0 && fd < 64)
        snprintf(fk.real_path[fd], sizeof fk.real_path[0], "%s", path);
    if (fd >= 0 && strstr(path, "_input") != NULL)
        fk.value_reads++;
    return fd;
}

static int fake_close(int fd)
{
    if (fd >= FAKE_FD0) {
        fk.ncloses++;
        return 0;
    }
    if (fd < 64)
        fk.real_path[fd][0] = '\0';
    return close(fd);
}

static ssize_t fake_read(int fd, void *buf, size_t len)
{
    if (fd < FAKE_FD0) {
        if (fd < 64 && strstr(fk.real_path[fd], "in_temp_input") != NULL && fk.eio_left > 0) {
            fk.eio_left--;
            errno = EIO;
            return -1;
        }
        return read(fd, buf, len);
    }
    assert_int_equal(fd, fk.uart_fd);
    if (fk.rx_len == 0) {
        errno = EAGAIN;
        return -1;
    }
    size_t n = len < fk.rx_len ? len : fk.rx_len;
    memcpy(buf, fk.rx, n);
    memmove(fk.rx, fk.rx + n, fk.rx_len - n);
    fk.rx_len -= n;
    return (ssize_t)n;
}

static ssize_t fake_write(int fd, const void *buf, size_t len)
{
    assert_int_equal(fd, fk.uart_fd);
    if (fk.eagain_next) {
        fk.eagain_next = 0;
        errno = EAGAIN;
        return -1;
    }
    size_t n = fk.write_chunk && len > fk.write_chunk ? fk.write_chunk : len;
    assert_true(fk.tx_len + n <= sizeof fk.tx);
    memcpy(fk.tx + fk.tx_len, buf, n);
    fk.tx_len += n;
    fk.eagain_next = fk.write_chunk != 0;
    return (ssize_t)n;
}

static int fake_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    assert_int_equal(n, 1);
    assert_int_equal(fds[0].fd, fk.uart_fd);
    assert_int_equal(fds[0].events, POLLOUT);
    assert_true(timeout_ms > 0);
    fk.npolls++;
    fds[0].revents = POLLOUT;
    return 1;
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
    assert_true(fd >= FAKE_FD0);
    assert_true(fk.nio < MAX_IOCTLS);
    ioctl_rec_t *r = &fk.io[fk.nio++];
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->req = req;
    if (req == SPI_IOC_WR_MODE || req == SPI_IOC_WR_BITS_PER_WORD) {
        r->value = *(uint8_t *)arg;
    } else if (req == SPI_IOC_WR_MAX_SPEED_HZ) {
        r->value = *(uint32_t *)arg;
    } else if (req == I2C_RDWR) {
        struct i2c_rdwr_ioctl_data *d = arg;
        r->nmsgs = d->nmsgs;
        assert_true(d->nmsgs >= 1 && d->nmsgs <= 2);
        for (unsigned i = 0; i < d->nmsgs; i++) {
            r->msg[i] = d->msgs[i];
            if (!(d->msgs[i].flags & I2C_M_RD) && d->msgs[i].len > 0)
                memcpy(r->wdata[i], d->msgs[i].buf, d->msgs[i].len < 64 ? d->msgs[i].len : 64);
        }
        if (fk.ioctl_errno) {
            errno = fk.ioctl_errno;
            fk.ioctl_errno = 0;
            return -1;
        }
        for (unsigned i = 0; i < d->nmsgs; i++)
            if (d->msgs[i].flags & I2C_M_RD)
                for (unsigned j = 0; j < d->msgs[i].len; j++)
                    d->msgs[i].buf[j] = (uint8_t)(0xA0 + j);
        return (int)d->nmsgs;
    } else if (req == SPI_IOC_MESSAGE(1)) {
        struct spi_ioc_transfer *t = arg;
        r->xfer = *t;
        assert_true(t->len <= XBUF);
        assert_true(t->tx_buf != 0);
        memcpy(r->tx, (const void *)(uintptr_t)t->tx_buf, t->len);
        if (fk.ioctl_errno) {
            errno = fk.ioctl_errno;
            fk.ioctl_errno = 0;
            return -1;
        }
        if (t->rx_buf != 0)
            for (unsigned i = 0; i < t->len; i++)
                ((uint8_t *)(uintptr_t)t->rx_buf)[i] = (uint8_t)(r->tx[i] ^ 0xFF);
        return (int)t->len;
    } else {
        fail_msg("unexpected ioctl 0x%lx", req);
    }
    return 0;
}

static int fake_tcgetattr(int fd, struct termios *t)
{
    assert_int_equal(fd, fk.uart_fd);
    memset(t, 0, sizeof *t); /* a cooked terminal, as a fresh tty is */
    t->c_iflag = ICRNL | IXON | BRKINT;
    t->c_oflag = OPOST | ONLCR;
    t->c_lflag = ICANON | ECHO | ISIG | IEXTEN;
    t->c_cflag = CS7 | PARENB | CSTOPB | CRTSCTS;
    t->c_cc[VMIN] = 1;
    cfsetispeed(t, B9600);
    cfsetospeed(t, B9600);
    return 0;
}

static int fake_tcsetattr(int fd, int when, const struct termios *t)
{
    assert_int_equal(fd, fk.uart_fd);
    assert_int_equal(when, TCSANOW);
    fk.tios = *t;
    fk.ntcset++;
    return 0;
}

static void fake_sleep_ms(unsigned ms)
{
    logf_("sleep %u", ms);
}
static uint64_t fake_now_ms(void)
{
    return fk.now;
}

static unsigned line_no(struct gpiod_line *l)
{
    return (unsigned)((char *)l - line_objs);
}

static struct gpiod_chip *fake_chip_open(const char *path)
{
    assert_string_equal(path, "/dev/gpiochip0");
    if (fk.chip_missing) {
        errno = ENOENT;
        return NULL;
    }
    fk.chip_open++;
    return (struct gpiod_chip *)&chip_obj;
}

static void fake_chip_close(struct gpiod_chip *c)
{
    assert_ptr_equal(c, &chip_obj);
    fk.chip_closed++;
}

static struct gpiod_line *fake_get_line(struct gpiod_chip *c, unsigned offset)
{
    assert_ptr_equal(c, &chip_obj);
    assert_true(offset < 54);
    return (struct gpiod_line *)&line_objs[offset];
}

static const char *flag_names(int flags)
{
    static char buf[64];
    buf[0] = '\0';
    if (flags & GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW)
        strcat(buf, " active-low");
    if (flags & GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        strcat(buf, " pull-up");
    if (flags & GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        strcat(buf, " pull-down");
    if (flags & ~(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW | GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP |
                  GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN))
        strcat(buf, " other");
    return buf;
}

static int fake_req_in(struct gpiod_line *l, const char *consumer, int flags)
{
    unsigned n = line_no(l);
    assert_string_equal(consumer, "harvester");
    assert_false(fk.line_requested[n]);
    fk.line_requested[n] = 1;
    fk.line_flags[n] = flags;
    logf_("in %u%s", n, flag_names(flags));
    return 0;
}

/* The physical level of a line given its logical value. */
static const char *phys(unsigned n, int v)
{
    return (v != 0) != ((fk.line_flags[n] & GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) != 0) ? "high"
                                                                                      : "low";
}

static int fake_req_out(struct gpiod_line *l, const char *consumer, int flags, int dflt)
{
    unsigned n = line_no(l);
    assert_string_equal(consumer, "harvester");
    assert_false(fk.line_requested[n]);
    fk.line_requested[n] = 1;
    fk.line_flags[n] = flags;
    logf_("out %u%s %s", n, flag_names(flags), phys(n, dflt));
    return 0;
}

static int fake_get_value(struct gpiod_line *l)
{
    unsigned n = line_no(l);
    assert_true(fk.line_requested[n]);
    logf_("get %u", n);
    return fk.line_level[n];
}

static int fake_set_value(struct gpiod_line *l, int v)
{
    unsigned n = line_no(l);
    assert_true(fk.line_requested[n]);
    logf_("set %u %s", n, phys(n, v));
    return 0;
}

static void fake_release(struct gpiod_line *l)
{
    unsigned n = line_no(l);
    assert_true(fk.line_requested[n]);
    fk.line_requested[n] = 0;
    logf_("release %u", n);
}

static const hv_linux_sys_t fake_sys = {
    .open = fake_open,
    .close = fake_close,
    .ioctl = fake_ioctl,
    .read = fake_read,
    .write = fake_write,
    .poll = fake_poll,
    .tcgetattr = fake_tcgetattr,
    .tcsetattr = fake_tcsetattr,
    .sleep_ms = fake_sleep_ms,
    .now_ms = fake_now_ms,
    .chip_open = fake_chip_open,
    .chip_close = fake_chip_close,
    .chip_get_line = fake_get_line,
    .line_request_input_flags = fake_req_in,
    .line_request_output_flags = fake_req_out,
    .line_get_value = fake_get_value,
    .line_set_value = fake_set_value,
    .line_release = fake_release,
};

/* ---- the fake tree ------------------------------------------------------ */

static char root[64];
static char iio[128], iio_empty[128], iio_nodt[128];
static char err[256];

static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void put_bin(const char *rel, const uint8_t *b, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static int group_setup(void **state)
{
    (void)state;
    hv_log_configure(HV_LOG_ERROR, 0); /* the backend warns about the bad clocks tested */
    snprintf(root, sizeof root, "/tmp/hv-test-linux-XXXXXX");
    if (mkdtemp(root) == NULL)
        return -1;
    snprintf(iio, sizeof iio, "%s/iio", root);
    snprintf(iio_empty, sizeof iio_empty, "%s/iio-empty", root);
    snprintf(iio_nodt, sizeof iio_nodt, "%s/iio-nodt", root);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    memset(&fk, 0, sizeof fk);
    fk.uart_fd = -1;
    fk.now = 1000000;
    hv_linux_sys = fake_sys;
    err[0] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hv_linux_sys = hv_linux_sys_default;
    return 0;
}

static hv_hal_linux_opts_t opts(void)
{
    return (hv_hal_linux_opts_t){
        .i2c_dev = "/dev/i2c-7",
        .spi_dev = "/dev/spidev0.1",
        .led_spi_dev = "/dev/spidev0.0",
        .led_spi_hz = 2400000,
        .nleds = 2,
        .brightness = 1.0,
        .uart_dev = "/dev/ttyFAKE0",
        .uart_baud = 115200,
        .gpiochip = "/dev/gpiochip0",
        .buzzer_pin = -1,
        .iio_dir = iio,
        .sys_root = root,
    };
}

static hv_hal_t *open_hal(const hv_hal_linux_opts_t *o)
{
    fk.nopens = fk.ncloses = fk.nio = 0; /* record this backend's calls */
    hv_hal_t *h = hv_hal_linux_new(o, err, sizeof err);
    assert_non_null(h);
    assert_int_equal(fk.nopens, 0); /* devices open lazily */
    return h;
}

/* ---- I2C ----------------------------------------------------------------- */

static void test_i2c_write_then_read(void **state)
{
    (void)state;
    hv_hal_linux_opts_t o = opts();
    hv_hal_t *h = open_hal(&o);
    uint8_t wr[] = {0xD0}, rd[2] = {0};
    assert_int_equal(h->ops->i2c_transfer(h, 0x76, wr, 1, rd, 2, err, sizeof err), HV_OK);
    assert_int_equal(fk.nopens, 1);
    assert_string_equal(fk.open_path[0], "/dev/i2c-7");
    assert_int_equal(fk.open_flags[0] & O_ACCMODE, O_RDWR);
    assert_int_equal(fk.nio, 1);
    ioctl_rec_t *r = &fk.io[0];
    assert_int_equal(r->req, I2C_RDWR);
    assert_int_equal(r->nmsgs, 2);
    assert_int_equal(r->msg[0].addr, 0x76);
    assert_int_equal(r->msg[0].flags, 0);
    assert_int_equal(r->msg[0].len, 1);
    assert_int_equal(r->wdata[0][0], 0xD0);
    assert_int_equal(r->msg[1].addr, 0x76);
    assert_int_equal(r->msg[1].flags, I2C_M_RD);
    assert_int_equal(r->msg[1].len, 2);
    assert_ptr_equal(r->msg[1].buf, rd);
    assert_int_equal(rd[0], 0xA0);
    assert_int_equal(rd[1], 0xA1);

    /* the bus stays open */
    assert_int_equal(h->ops->i2c_transfer(h, 0x76, wr, 1, rd, 2, err, sizeof err), HV_OK);
    assert_int_equal(fk.nopens, 1);
    hv_hal_linux_free(h);
    assert_int_equal(fk.ncloses, 1);
}

static void test_i2c_write_only_and_read_only(void **state)
{
    (void)state;
    hv_hal_linux_opts_t o = opts();
    hv_hal_t *h = open_hal(&o);
    uint8_t wr[] = {0x00, 0xAE, 0xAF}, rd[3];
    assert_int_equal(h->ops->i2c_transfer(h, 0x3C, wr, 3, NULL, 0, err, sizeof err), HV_OK);
    ioctl_rec_t *r = &fk.io[0];
    assert_int_equal(r->req, I2C_RDWR);
    assert_int_equal(r->nmsgs, 1);
    assert_int_equal(r->msg[0].addr, 0x3C);
    assert_int_equal(r->msg[0].flags, 0);
    assert_int_equal(r->msg[0].len, 3);
    assert_memory_equal(r->wdata[0], wr, 3);

    assert_int_equal(h->ops->i2c_transfer(h, 0x23, NULL, 0, rd, 3, err, sizeof err), HV_OK);
    r = &fk.io[1];
    assert_int_equal(r->nmsgs, 1);
    assert_int_equal(r->msg[0].addr, 0x23);
    assert_int_equal(r->msg[0].flags, I2C_M_RD);
    assert_int_equal(r->msg[0].len, 3);
    assert_int_equal(rd[2], 0xA2);

    /* no bytes either way: a zero-length write, an address probe */
    assert_int_equal(h->ops->i2c_transfer(h, 0x23, NULL, 0, NULL, 0, err, sizeof err), HV_OK);
    r = &fk.io[2];
    assert_int_equal(r->nmsgs, 1);
    assert_int_equal(r->msg[0].flags, 0);
    assert_int_equal(r->msg[0].len, 0);
    hv_hal_linux_free(h);
}

static void test_i2c_errors(void **state)
{
    (void)state;
    hv_hal_linux_opts_t o = opts();
    hv_hal_t *h = open_hal(&o);
    uint8_t wr[] = {0x01}, rd[1];

    fk.ioctl_errno = ENXIO;
    assert_int_equal(h->ops->i2c_transfer(h, 0x40, wr, 1, rd, 1, err, sizeof err), HV_EIO);
    assert_string_equal(err, "i2c: no device at 0x40 (no ACK)");
    fk.ioctl_errno = EREMOTEIO; /* what i2c-bcm2835 says for a NACK */
    assert_int_equal(h->ops->i2c_transfer(h, 0x41, wr, 1, NULL, 0, err, sizeof err), HV_EIO);
    assert_string_equal(err, "i2c: no device at 0x41 (no ACK)");
    fk.ioctl_errno = ETIMEDOUT;
    assert_int_equal(h->ops->i2c_transfer(h, 0x40, NULL, 0, rd, 1, err, sizeof err), HV_EIO);
    assert_string_equal(err, "i2c: bus timeout");
    assert_int_equal(fk.nopens, 1); /* a NACK or a timeout keeps the bus open */
    assert_int_equal(fk.nio, 3);

    /* addresses and lengths are refused before the bus */
    assert_int_equal(h->ops->i2c_transfer(h, 0x02, wr, 1, rd, 1, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "i2c: address 0x02 outside 0x03..0x77");
    assert_int_equal(h->ops->i2c_transfer(h, 0x78, wr, 1, rd, 1, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "i2c: address 0x78 outside 0x03..0x77");
    static uint8_t big[HV_HAL_MAX_XFER + 1];
    assert_int_equal(h->ops->i2c_transfer(h, 0x40, big, sizeof big, NULL, 0, err, sizeof err),
                     HV_ETOOBIG);
    assert_int_equal(h->ops->i2c_transfer(h, 0x40, NULL, 0, big, sizeof big, err, sizeof err),
                     HV_ETOOBIG);
    assert_int_equal(h->ops->i2c_transfer(h, 0x40, big, HV_HAL_MAX_XFER, NULL, 0, err, sizeof err),
                     HV_OK);
    assert_int_equal(fk.io[3].msg[0].len, HV_HAL_MAX_XFER);
    assert_int_equal(fk.nio, 4);
    hv_hal_linux_free(h);

    /* a missing node names its path */
    fk.missing = "/dev/i2c-7";
    h = open_hal(&o);
    assert_int_equal(h->ops->i2c_transfer(h, 0x40, wr, 1, rd, 1, err, sizeof err), HV_ENOENT);
    assert_non_null(strstr(err, "/dev/i2c-7"));
    assert_int_equal(strncmp(err, "i2c: ", 5), 0);
    hv_hal_linux_free(h);
}

/* ---- SPI ------------------------------------------------------------------ */

static void test_spi(void **state)
{
    (void)state;
    hv_hal_linux_opts_t o = opts();
    hv_hal_t *h = open_hal(&o);
    uint8_t tx[] = {0x9F, 0x00, 0x55}, rx[3] = {0};
    assert_int_equal(h->ops->spi_transfer(h, tx, rx, 3, err, sizeof err), HV_OK);
    assert_int_equal(fk.nopens, 1);
    assert_string_equal(fk.open_path[0], "/dev/spidev0.1");
    assert_int_equal(fk.open_flags[0] & O_ACCMODE, O_RDWR);
    assert_int_equal(fk.nio, 4);
    assert_int_equal(fk.io[0].req, SPI_IOC_WR_MODE);
    assert_int_equal(fk.io[0].value, SPI_MODE_0);
    assert_int_equal(fk.io[1].req, SPI_IOC_WR_BITS_PER_WORD);
    assert_int_equal(fk.io[1].value, 8);
    assert_int_equal(fk.io[2].req, SPI_IOC_WR_MAX_SPEED_HZ);
    assert_int_equal(fk.io[2].value, HV_LINUX_SPI_HZ);
    ioctl_rec_t *r = &fk.io[3];
    assert_int_equal(r->req, SPI_IOC_MESSAGE(1));
    assert_int_equal(r->xfer.len, 3);
    assert_int_equal(r->xfer.speed_hz, HV_LINUX_SPI_HZ);
    assert_int_equal(r->xfer.bits_per_word, 8);
    assert_int_equal(r->xfer.cs_change, 0);
    assert_int_equal(r->xfer.rx_buf, (uint64_t)(uintptr_t)rx);
    assert_memory_equal(r->tx, tx, 3);
    assert_int_equal(rx[0], 0x60); /* full duplex: the fake answers ~tx */
    assert_int_equal(rx[2], 0xAA);

    /* configured once */
    assert_int_equal(h->ops->spi_transfer(h, tx, rx, 1, err, sizeof err), HV_OK);
    assert_int_equal(fk.nio, 5);
    assert_int_equal(fk.io[4].req, SPI_IOC_MESSAGE(1));

    static uint8_t big[HV_HAL_MAX_XFER + 1];
    assert_int_equal(h->ops->spi_transfer(h, big, big, sizeof big, err, sizeof err), HV_ETOOBIG);
    fk.ioctl_errno = EMSGSIZE; /* spidev's buffer (bufsiz) is smaller */
    assert_int_equal(h->ops->spi_transfer(h, big, big, 4097, err, sizeof err), HV_ETOOBIG);
    assert_non_null(strstr(err, "spidev.bufsiz"));
    hv_hal_linux_free(h);

    fk.missing = "/dev/spidev0.1";
    h = open_hal(&o);
    assert_int_equal(h->ops->spi_transfer(h, tx, rx, 3, err, sizeof err), HV_ENOENT);
    assert_non_null(strstr(err, "/dev/spidev0.1"));
    hv_hal_linux_free(h);
}

/* ---- UART ----------------------------------------------------------------- */

static void assert_raw(const struct termios *t, speed_t sp)
{
    assert_int_equal(cfgetispeed(t), sp);
    assert_int_equal(cfgetospeed(t), sp);
    assert_int_equal(t->c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0);
    assert_int_equal(t->c_iflag & (ICRNL | IXON | BRKINT), 0);
    assert_int_equal(t->c_oflag & OPOST, 0);
    assert_int_equal(t->c_cflag & CSIZE, CS8);
    assert_int_equal(t->c_cflag & (PARENB | CSTOPB | CRTSCTS), 0);
    assert_int_equal(t->c_cflag & (CLOCAL | CREAD), CLOCAL | CREAD);
    assert_int_equal(t->c_cc[VMIN], 0);
    assert_int_equal(t->c_cc[VTIME], 0);
}

static void test_uart_baud(void **state)
{
    (void)state;
    hv_hal_linux_opts_t o = opts();
    hv_hal_t *h = open_hal(&o);
    assert_int_equal(h->ops->uart_set_baud(h, 9600, err, sizeof err), HV_OK);
    assert_int_equal(fk.nopens, 1);
    assert_string_equal(fk.open_path[0], "/dev/ttyFAKE0");
    int fl = fk.open_flags[0];
    assert_int_equal(fl & O_ACCMODE, O_RDWR);
    assert_true(fl & O_NOCTTY);
    assert_true(fl & O_NONBLOCK);
    assert_int_equal(fk.ntcset, 1);
    assert_raw(&fk.tios, B9600);

    assert_int_equal(h->ops->uart_set_baud(h, 230400, err, sizeof err), HV_OK);
    assert_int_equal(fk.ntcset, 2);
    assert_raw(&fk.tios, B230400);

    assert_int_equal(h->ops->uart_set_baud(h, 12345, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "uart: unsupported baud rate 12345");
    assert_int_equal(h->ops->uart_set_baud(h, 460800, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "uart: unsupported baud rate 460800");
    assert_int_equal(fk.ntcset, 2);
    assert_int_equal(fk.nopens, 1);
    hv_hal_linux_free(h);

    /* the configured rate, applied on first use */
    o.uart_baud = 57600;
    h = open_hal(&o);
    size_t n = 99;
    uint8_t buf[8];
    assert_int_equal(h->ops->uart_read(h, buf, sizeof buf, &n, err, sizeof err), HV_OK);
    assert_int_equal(n, 0);
    assert_raw(&fk.tios, B57600);
    hv_hal_linux_free(h);

    o.uart_baud = 1000;
    h = open_hal(&o);
    assert_int_equal(h->ops->uart_read(h, buf, sizeof buf, &n, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "uart: unsupported baud rate 1000");
    hv_hal_linux_free(h);
}

static void test_uart_read_write(void **state)
{
    (void)state;
    hv_hal_linux_opts_t o = opts();
    hv_hal_t *h = open_hal(&o);
    uint8_t buf[8];
    size_t n = 99;
    assert_int_equal(h->ops->uart_read(h, buf, sizeof buf, &n, err, sizeof err), HV_OK);
    assert_int_equal(n, 0); /* nothing arrived: EAGAIN is no error */
    assert_raw(&fk.tios, B115200);

    memcpy(fk.rx, "$GPGGA,1234", 11);
    fk.rx_len = 11;
    assert_int_equal(h->ops->uart_read(h, buf, sizeof buf, &n, err, sizeof err), HV_OK);
    assert_int_equal(n, 8);
    assert_memory_equal(buf, "$GPGGA,1", 8);
    assert_int_equal(h->ops->uart_read(h, buf, sizeof buf, &n, err, sizeof err), HV_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "234", 3);

    /* every byte goes out, over partial writes and a full buffer */
    const char *msg = "AT+CGMI\r\nAT+CSQ\r\n";
    fk.write_chunk = 4;
    assert_int_equal(h->ops->uart_write(h, (const uint8_t *)msg, strlen(msg), err, sizeof err),
                     HV_OK);
    assert_int_equal(fk.tx_len, strlen(msg));
    assert_memory_equal(fk.tx, msg, strlen(msg));
    assert_true(fk.npolls >= 4);
    assert_int_equal(fk.nopens, 1);
    hv_hal_linux_free(h);
}

/* ---- GPIO and the buzzer ---------------------------------------------------- */

static void test_gpio(void **state)
{
    (void)state;
    hv_hal_linux_opts_t o = opts();
    hv_hal_t *h = open_hal(&o);
    assert_int_equal(h->ops->gpio_mode(h, 17, 1, err, sizeof err), HV_OK);
    assert_int_equal(h->ops->gpio_write(h, 17, 1, err, sizeof err), HV_OK);
    assert_int_equal(h->ops->gpio_write(h, 17, 0, err, sizeof err), HV_OK);
    assert_int_equal(h->ops->gpio_mode(h, 17, 1, err, sizeof err), HV_OK); /* cached */
    assert_int_equal(h->ops->gpio_mode(h, 22, 2, err, sizeof err), HV_OK);
    assert_int_equal(h->ops->gpio_mode(h, 23, 3, err, sizeof err), HV_OK);
    assert_int_equal(h->ops->gpio_mode(h, 24, 0, err, sizeof err), HV_OK);
    fk.line_level[22] = 1;
    int v = -1;
    assert_int_equal(h->ops->gpio_read(h, 22, &v, err, sizeof err), HV_OK);
    assert_int_equal(v, 1);
    assert_int_equal(h->ops->gpio_read(h, 23, &v, err, sizeof err), HV_OK);
    assert_int_equal(v, 0);
    assert_int_equal(h->ops->gpio_read(h, 5, &v, err, sizeof err), HV_OK); /* requested as input */
    assert_int_equal(h->ops->gpio_mode(h, 17, 0, err, sizeof err), HV_OK); /* new direction */
    assert_string_equal(fk.log, "out 17 low\n"
                                "set 17 high\n"
                                "set 17 low\n"
                                "in 22 pull-up\n"
                                "in 23 pull-down\n"
                                "in 24\n"
                                "get 22\n"
                                "get 23\n"
                                "in 5\n"
                                "get 5\n"
                                "release 17\n"
                                "in 17\n");
    assert_int_equal(fk.chip_open, 1);

    fk.log[0] = '\0';
    assert_int_equal(h->ops->gpio_write(h, 22, 1, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "gpio: pin 22 is not an output");
    assert_int_equal(h->ops->gpio_write(h, 6, 1, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "gpio: pin 6 is not an output");
    assert_int_equal(h->ops->gpio_mode(h, 28, 1, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "gpio: no pin 28 (0..27)");
    assert_int_equal(h->ops->gpio_read(h, 40, &v, err, sizeof err), HV_EINVAL);
    assert_int_equal(h->ops->gpio_write(h, 99, 1, err, sizeof err), HV_EINVAL);
    assert_int_equal(h->ops->gpio_mode(h, 4, 7, err, sizeof err), HV_EINVAL);
    assert_string_equal(fk.log, "");

    hv_hal_linux_free(h);
    assert_int_equal(fk.chip_closed, 1);
    for (int i = 0; i < 64; i++)
        assert_false(fk.line_requested[i]);

    /* no chip */
    memset(fk.line_requested, 0, sizeof fk.line_requested);
    fk.chip_missing = 1;
    h = open_hal(&o);
    assert_int_equal(h->ops->gpio_mode(h, 17, 1, err, sizeof err), HV_ENOENT);
    assert_non_null(strstr(err, "/dev/gpiochip0"));
    hv_hal_linux_free(h);
}

static void test_buzzer(void **state)
{
    (void)state;
    hv_hal_linux_opts_t o = opts();
    o.buzzer_pin = 18;
    hv_hal_t *h = open_hal(&o);
    assert_int_equal(h->ops->buzz(h, 2, 100, 50), HV_OK);
    /* requested active-low, starting high (relay off); low = on */
    assert_string_equal(fk.log, "out 18 active-low high\n"
                                "set 18 low\n"
                                "sleep 100\n"
                                "set 18 high\n"
                                "sleep 50\n"
                                "set 18 low\n"
                                "sleep 100\n"
                                "set 18 high\n"
                                "sleep 50\n");
    fk.log[0] = '\0';
    assert_int_equal(h->ops->buzz(h, 1, 200, 0), HV_OK);
    assert_string_equal(fk.log, "set 18 low\n"
                                "sleep 200\n"
                                "set 18 high\n");
    fk.log[0] = '\0';
    assert_int_equal(h->ops->buzz(h, 0, 200, 100), HV_OK);
    assert_string_equal(fk.log, "");

    /* the buzzer's pin is not the plugins' */
    assert_int_equal(h->ops->gpio_mode(h, 18, 1, err, sizeof err), HV_EBUSY);
    assert_int_equal(h->ops->gpio_write(h, 18, 0, err, sizeof err), HV_EBUSY);
    hv_hal_linux_free(h);
    assert_string_equal(fk.log, "set 18 high\nrelease 18\n");

    /* no buzzer: silent */
    fk.log[0] = '\0';
    o.buzzer_pin = -1;
    h = open_hal(&o);
    assert_int_equal(h->ops->buzz(h, 3, 100, 100), HV_OK);
    hv_hal_linux_free(h);
    assert_string_equal(fk.log, "");
}

/* ---- LEDs -------------------------------------------------------------------- */

/* Appends a colour byte as the 2.4 MHz pattern: 1 -> 110, 0 -> 100. */
static void bits_of(char *s, uint8_t v)
{
    for (int k = 7; k >= 0; k--)
        strcat(s, (v >> k) & 1 ? "110" : "100");
}

static void pack(const char *bits, uint8_t *out)
{
    size_t n = strlen(bits);
    memset(out, 0, (n + 7) / 8);
    for (size_t i = 0; i < n; i++)
        if (bits[i] == '1')
            out[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

static void check_strip(const ioctl_rec_t *r, const uint8_t grb[][3], unsigned n, uint32_t hz)
{
    char bits[2048] = "";
    for (unsigned i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            bits_of(bits, grb[i][c]);
    uint8_t want[512];
    pack(bits, want);
    size_t data = strlen(bits) / 8, reset = 90; /* 300 µs at 2.4 MHz: 720 bits */
    assert_int_equal(r->req, SPI_IOC_MESSAGE(1));
    assert_int_equal(r->xfer.len, data + reset);
    assert_int_equal(r->xfer.speed_hz, hz);
    assert_int_equal(r->xfer.bits_per_word, 8);
    assert_int_equal(r->xfer.rx_buf, 0);
    assert_memory_equal(r->tx, want, data);
    for (size_t i = 0; i < reset; i++)
        assert_int_equal(r->tx[data + i], 0);
}

static void test_leds(void **state)
{
    (void)state;
    hv_hal_linux_opts_t o = opts();
    hv_hal_t *h = open_hal(&o);
    assert_int_equal(h->nleds, 2);
    assert_int_equal(h->ops->led_set(h, 0, 0x80, 0x01, 0xFF), HV_OK);
    assert_int_equal(h->ops->led_set(h, 1, 0x00, 0xF0, 0x0F), HV_OK);
    assert_int_equal(h->ops->led_set(h, 2, 1, 2, 3), HV_ERANGE);
    assert_int_equal(h->ops->led_sync(h), HV_OK);
    assert_int_equal(fk.nopens, 1);
    assert_string_equal(fk.open_path[0], "/dev/spidev0.0");
    assert_int_equal(fk.nio, 4);
    assert_int_equal(fk.io[0].req, SPI_IOC_WR_MODE);
    assert_int_equal(fk.io[0].value, SPI_MODE_0);
    assert_int_equal(fk.io[1].req, SPI_IOC_WR_BITS_PER_WORD);
    assert_int_equal(fk.io[1].value, 8);
    assert_int_equal(fk.io[2].req, SPI_IOC_WR_MAX_SPEED_HZ);
    assert_int_equal(fk.io[2].value, 2400000);
    /* G, R, B per LED */
    static const uint8_t full[2][3] = {{0x01, 0x80, 0xFF}, {0xF0, 0x00, 0x0F}};
    check_strip(&fk.io[3], full, 2, 2400000);
    /* the patterns by hand: green 0x01, red 0x80, blue 0xFF of LED 0 */
    static const uint8_t led0[9] = {0x92, 0x49, 0x26, 0xD2, 0x49, 0x24, 0xDB, 0x6D, 0xB6};
    assert_memory_equal(fk.io[3].tx, led0, 9);

    /* one write per sync, device configured once */
    assert_int_equal(h->ops->led_sync(h), HV_OK);
    assert_int_equal(fk.nio, 5);
    check_strip(&fk.io[4], full, 2, 2400000);
    hv_hal_linux_free(h);

    /* half brightness: each channel scaled (and rounded) */
    memset(&fk.io, 0, sizeof fk.io);
    fk.nio = fk.nopens = 0;
    o.brightness = 0.5;
    h = open_hal(&o);
    h->ops->led_set(h, 0, 0x80, 0x01, 0xFF);
    h->ops->led_set(h, 1, 0x00, 0xF0, 0x0F);
    assert_int_equal(h->ops->led_sync(h), HV_OK);
    static const uint8_t half[2][3] = {{0x01, 0x40, 0x80}, {0x78, 0x00, 0x08}};
    check_strip(&fk.io[3], half, 2, 2400000);
    hv_hal_linux_free(h);

    /* 6.4 MHz: 8 SPI bits per LED bit, a 0 is 11100000 */
    memset(&fk.io, 0, sizeof fk.io);
    fk.nio = fk.nopens = 0;
    o.led_spi_hz = 6400000;
    o.nleds = 1;
    h = open_hal(&o);
    h->ops->led_set(h, 0, 0, 0, 0x01);
    assert_int_equal(h->ops->led_sync(h), HV_OK);
    ioctl_rec_t *r = &fk.io[3];
    assert_int_equal(fk.io[2].value, 6400000);
    assert_int_equal(r->xfer.len, 24 + 240); /* 300 µs: 1920 bits */
    for (int i = 0; i < 23; i++)
        assert_int_equal(r->tx[i], 0xE0);
    assert_int_equal(r->tx[23], 0xF8); /* the blue LSB: 5 high = 781 ns */
    for (int i = 24; i < 24 + 240; i++)
        assert_int_equal(r->tx[i], 0);
    hv_hal_linux_free(h);

    /* a clock too slow for the timing */
    fk.nio = fk.nopens = 0;
    o.led_spi_hz = 1000000;
    h = open_hal(&o);
    assert_int_equal(h->ops->led_sync(h), HV_EINVAL);
    assert_int_equal(fk.nio, 0);
    hv_hal_linux_free(h);
}

static void test_ws2812_patterns(void **state)
{
    (void)state;
    static const struct {
        uint32_t hz;
        unsigned n, h0, h1;
    } cases[] = {
        {2400000, 3, 1, 2}, {3200000, 4, 1, 3}, {4000000, 5, 2, 3},
        {5000000, 6, 2, 4}, {6400000, 8, 3, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hv_ws2812_pattern_t p;
        assert_int_equal(hv_linux_ws2812_pattern(cases[i].hz, &p), HV_OK);
        assert_int_equal(p.nbits, cases[i].n);
        assert_int_equal(p.h0, cases[i].h0);
        assert_int_equal(p.h1, cases[i].h1);
    }
    /* over 2.4..6.4 MHz: the high times within ±150 ns, or the clock refused */
    unsigned ok = 0;
    for (uint32_t hz = 2400000; hz <= 6400000; hz += 10000) {
        hv_ws2812_pattern_t p;
        double t = 1e9 / hz;
        int rc = hv_linux_ws2812_pattern(hz, &p);
        /* can any pair of bit counts make both high times? */
        int possible = 0;
        for (unsigned a = 1; a < 20; a++)
            for (unsigned b = a + 1; b < 20; b++)
                possible |= fabs(a * t - 400) <= 150 && fabs(b * t - 800) <= 150;
        assert_int_equal(rc, possible ? HV_OK : HV_EINVAL);
        if (rc != HV_OK)
            continue;
        ok++;
        assert_true(p.h0 * t >= 250 && p.h0 * t <= 550);
        assert_true(p.h1 * t >= 650 && p.h1 * t <= 950);
        assert_true(p.nbits > p.h1);
        assert_true(p.nbits * t >= 1000 && p.nbits * t <= 1500);
        assert_true(hv_linux_ws2812_reset_bytes(hz) * 8 * t >= 50000);
    }
    assert_true(ok >= 390); /* of 401 */
    hv_ws2812_pattern_t q;
    assert_int_equal(hv_linux_ws2812_pattern(3100000, &q), HV_EINVAL); /* 645 or 968 ns */
    hv_ws2812_pattern_t p;
    assert_int_equal(hv_linux_ws2812_pattern(1000000, &p), HV_EINVAL);
    assert_int_equal(hv_linux_ws2812_pattern(2000000, &p), HV_EINVAL);
    assert_int_equal(hv_linux_ws2812_pattern(0, &p), HV_EINVAL);
    assert_int_equal(hv_linux_ws2812_reset_bytes(2400000), 90);
}

/* ---- DHT22 -------------------------------------------------------------------- */

static void make_iio(void)
{
    static const uint8_t gpios[12] = {0, 0, 0, 0x21, 0, 0, 0, 4, 0, 0, 0, 0}; /* <&gpio 4 0> */
    put("iio/iio:device0/name", "mcp3008\n");
    put("iio/iio:device1/name", "dht11\n");
    put("iio/iio:device1/in_temp_input", "23400\n");
    put("iio/iio:device1/in_humidityrelative_input", "45600\n");
    put("iio/iio:device1/of_node/x", "");
    put_bin("iio/iio:device1/of_node/gpios", gpios, sizeof gpios);
    put("iio/trigger0/name", "dht11\n"); /* not a device */
    put("iio-empty/x", "");
    put("iio-nodt/iio:device0/name", "dht11\n");
    put("iio-nodt/iio:device0/in_temp_input", "-5200\n");
    put("iio-nodt/iio:device0/in_humidityrelative_input", "99900\n");
}

static void test_dht22(void **state)
{
    (void)state;
    make_iio();
    hv_hal_linux_opts_t o = opts();
    hv_hal_t *h = open_hal(&o);
    float t = 0, rh = 0;

    /* the driver fails twice, then answers */
    fk.eio_left = 2;
    assert_int_equal(h->ops->dht22_read(h, 4, &t, &rh, err, sizeof err), HV_OK);
    assert_float_equal(t, 23.4, 1e-4);
    assert_float_equal(rh, 45.6, 1e-4);
    assert_string_equal(fk.log, "sleep 100\nsleep 100\n");
    assert_int_equal(fk.eio_left, 0);

    /* within 2 s: the cached reading, the sensor untouched */
    put("iio/iio:device1/in_temp_input", "25000\n");
    int reads = fk.value_reads;
    fk.now += 1999;
    assert_int_equal(h->ops->dht22_read(h, 4, &t, &rh, err, sizeof err), HV_OK);
    assert_float_equal(t, 23.4, 1e-4);
    assert_int_equal(fk.value_reads, reads);

    fk.now += 1;
    assert_int_equal(h->ops->dht22_read(h, 4, &t, &rh, err, sizeof err), HV_OK);
    assert_float_equal(t, 25.0, 1e-4);
    assert_int_equal(fk.value_reads, reads + 2);

    /* all attempts fail: a recent good reading stands in ... */
    fk.log[0] = '\0';
    fk.now += 2000;
    fk.eio_left = 5;
    assert_int_equal(h->ops->dht22_read(h, 4, &t, &rh, err, sizeof err), HV_OK);
    assert_float_equal(t, 25.0, 1e-4);
    assert_string_equal(fk.log, "sleep 100\nsleep 100\nsleep 100\nsleep 100\n");
    /* ... until it is too old */
    fk.now += HV_LINUX_DHT_STALE_MS;
    fk.eio_left = 5;
    assert_int_equal(h->ops->dht22_read(h, 4, &t, &rh, err, sizeof err), HV_EIO);
    assert_string_equal(err, "dht22: no valid reading from GPIO 4 after 5 attempts "
                             "(Input/output error)");
    fk.now += 1000; /* the failure is cached too: no read within 2 s */
    reads = fk.value_reads;
    assert_int_equal(h->ops->dht22_read(h, 4, &t, &rh, err, sizeof err), HV_EIO);
    assert_int_equal(fk.value_reads, reads);

    /* another pin than the overlay's */
    assert_int_equal(h->ops->dht22_read(h, 17, &t, &rh, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "dht22: the dht11 overlay is on GPIO 4, not 17 "
                             "(dtoverlay=dht11,gpiopin=17)");
    assert_int_equal(h->ops->dht22_read(h, 28, &t, &rh, err, sizeof err), HV_EINVAL);
    hv_hal_linux_free(h);

    /* no overlay */
    o.iio_dir = iio_empty;
    h = open_hal(&o);
    assert_int_equal(h->ops->dht22_read(h, 4, &t, &rh, err, sizeof err), HV_ENOENT);
    char want[512];
    snprintf(want, sizeof want,
             "dht22: no dht11 IIO device under %s (add dtoverlay=dht11,gpiopin=4 to "
             "/boot/config.txt)",
             iio_empty);
    assert_string_equal(err, want);
    hv_hal_linux_free(h);

    o.iio_dir = "/nonexistent/iio";
    h = open_hal(&o);
    assert_int_equal(h->ops->dht22_read(h, 4, &t, &rh, err, sizeof err), HV_ENOENT);
    assert_string_equal(err, "dht22: no dht11 IIO device under /nonexistent/iio (add "
                             "dtoverlay=dht11,gpiopin=4 to /boot/config.txt)");
    hv_hal_linux_free(h);

    /* no device tree node: the pin cannot be checked and is ignored */
    o.iio_dir = iio_nodt;
    h = open_hal(&o);
    assert_int_equal(h->ops->dht22_read(h, 21, &t, &rh, err, sizeof err), HV_OK);
    assert_float_equal(t, -5.2, 1e-4);
    assert_float_equal(rh, 99.9, 1e-4);
    hv_hal_linux_free(h);
}

/* ---- system figures ------------------------------------------------------------- */

static void test_system(void **state)
{
    (void)state;
    put("sys/class/thermal/thermal_zone0/temp", "48312\n");
    put("proc/meminfo", "MemTotal:        3884328 kB\n"
                        "MemFree:          912000 kB\n"
                        "MemAvailable:    2818048 kB\n"
                        "Buffers:           81234 kB\n"
                        "HugePages_Total:       0\n");
    put("proc/uptime", "12345.67 40000.12\n");
    put("proc/stat", "cpu  100 0 100 700 100 0 0 0 0 0\n"
                     "cpu0 50 0 50 350 50 0 0 0 0 0\n"
                     "intr 12345\n");
    hv_hal_linux_opts_t o = opts();
    hv_hal_t *h = open_hal(&o);
    assert_float_equal(h->ops->cpu_temp(h), 48.312, 1e-4);
    uint32_t used = 0, total = 0;
    h->ops->memory_mb(h, &used, &total);
    assert_int_equal(total, 3884328 / 1024);
    assert_int_equal(used, (3884328 - 2818048) / 1024);
    assert_int_equal(h->ops->uptime_s(h), 12345);

    /* first call: since boot (busy 200 of 1000 jiffies) */
    assert_float_equal(h->ops->cpu_usage(h), 20.0, 1e-4);
    /* then the delta: +1000 jiffies, 500 of them idle or iowait */
    put("proc/stat", "cpu  400 0 200 1200 100 50 50 0 0 0\n");
    assert_float_equal(h->ops->cpu_usage(h), 50.0, 1e-4);
    /* no jiffy since: the last figure */
    assert_float_equal(h->ops->cpu_usage(h), 50.0, 1e-4);
    put("proc/stat", "cpu  400 0 200 2200 100 50 50 0 0 0\n");
    assert_float_equal(h->ops->cpu_usage(h), 0.0, 1e-4);
    hv_hal_linux_free(h);

    /* nothing there */
    o.sys_root = "/nonexistent-root";
    h = open_hal(&o);
    assert_float_equal(h->ops->cpu_temp(h), 0.0, 1e-6);
    h->ops->memory_mb(h, &used, &total);
    assert_int_equal(total, 0);
    assert_int_equal(used, 0);
    assert_int_equal(h->ops->uptime_s(h), 0);
    assert_float_equal(h->ops->cpu_usage(h), 0.0, 1e-6);
    hv_hal_linux_free(h);
}

/* ---- the constructor ------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    hv_hal_t *h = hv_hal_linux_new(NULL, err, sizeof err);
    assert_non_null(h);
    assert_int_equal(h->nleds, 0);
    uint8_t rd[1];
    h->ops->i2c_transfer(h, 0x40, NULL, 0, rd, 1, err, sizeof err);
    assert_string_equal(fk.open_path[0], "/dev/i2c-1");
    assert_int_equal(h->ops->led_sync(h), HV_OK); /* no strip: nothing written */
    assert_int_equal(fk.nopens, 1);
    assert_int_equal(h->ops->buzz(h, 1, 10, 10), HV_OK);
    hv_hal_linux_free(h);
    hv_hal_linux_free(NULL);

    hv_hal_linux_opts_t o = opts();
    o.nleds = 500;
    h = open_hal(&o);
    assert_int_equal(h->nleds, HV_HAL_MAX_LEDS);
    assert_int_equal(h->ops->led_set(h, HV_HAL_MAX_LEDS - 1, 1, 2, 3), HV_OK);
    assert_int_equal(h->ops->led_set(h, HV_HAL_MAX_LEDS, 1, 2, 3), HV_ERANGE);
    hv_hal_linux_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_i2c_write_then_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_i2c_write_only_and_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_i2c_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uart_baud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uart_read_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gpio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buzzer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ws2812_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dht22, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
