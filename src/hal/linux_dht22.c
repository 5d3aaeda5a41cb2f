/*
 * The DHT22 through the kernel's dht11 IIO driver (dtoverlay=dht11,
 * gpiopin=N; the driver reads both the DHT11 and the DHT22): the device
 * whose `name` is "dht11" under iio_dir, in_temp_input in milli-°C and
 * in_humidityrelative_input in milli-%. The single-wire timing fails often
 * (EIO: a checksum or a missed edge), so a read is tried
 * HV_LINUX_DHT_ATTEMPTS times. The sensor is read at most every 2 s per
 * pin: within 2 s of the last read its outcome is returned again. When a
 * read fails after every attempt, the last good reading stands in for it
 * if it is at most HV_LINUX_DHT_STALE_MS old; after that, the error.
 *
 * The pin: the overlay's pin is the second cell of the device tree node's
 * `gpios` (of_node/gpios of the IIO device or its parent). With several
 * overlays the device on the requested pin is used; a pin no overlay
 * drives is an error. When of_node is not there (no device tree), the
 * pin cannot be known and the first dht11 device is used.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux_impl.h"

/* dir/rel into buf; 0 when it does not fit. */
static int join(char *buf, size_t n, const char *dir, const char *rel)
{
    int k = snprintf(buf, n, "%s/%s", dir, rel);
    return k >= 0 && (size_t)k < n;
}

/* The overlay's GPIO of the device in dir, or -1 when it cannot be known. */
static int overlay_pin(const char *dir)
{
    static const char *const rel[] = {"of_node/gpios", "../of_node/gpios"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char path[PATH_MAX];
        FILE *f = join(path, sizeof path, dir, rel[i]) ? fopen(path, "rb") : NULL;
        if (f == NULL)
            continue;
        uint8_t cells[12]; /* <&gpio pin flags>, big-endian */
        size_t n = fread(cells, 1, sizeof cells, f);
        fclose(f);
        if (n >= 8)
            return (int)((uint32_t)cells[4] << 24 | (uint32_t)cells[5] << 16 |
                         (uint32_t)cells[6] << 8 | cells[7]);
    }
    return -1;
}

static int is_dht11(const char *dir)
{
    char path[PATH_MAX], name[32] = "";
    FILE *f = join(path, sizeof path, dir, "name") ? fopen(path, "r") : NULL;
    if (f == NULL)
        return 0;
    int ok = fgets(name, sizeof name, f) != NULL;
    fclose(f);
    name[strcspn(name, "\n")] = '\0';
    return ok && strcmp(name, "dht11") == 0;
}

/* Finds the dht11 device for pin: its directory into ret_dir. */
static int find_device(hv_linux_t *lx, unsigned pin, char ret_dir[PATH_MAX], char *err,
                       size_t errlen)
{
    DIR *d = opendir(lx->iio_dir);
    int found = 0, other_pin = -1;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "iio:device", 10) != 0)
            continue;
        char dir[PATH_MAX];
        if (!join(dir, sizeof dir, lx->iio_dir, e->d_name) || !is_dht11(dir))
            continue;
        int p = overlay_pin(dir);
        if (p == (int)pin || (p < 0 && !found)) {
            memcpy(ret_dir, dir, PATH_MAX);
            found = 1 + (p == (int)pin);
            if (found == 2)
                break; /* an exact match wins */
        } else if (p >= 0) {
            other_pin = p;
        }
    }
    if (d != NULL)
        closedir(d);
    if (found)
        return HV_OK;
    if (other_pin >= 0) {
        snprintf(err, errlen,
                 "dht22: the dht11 overlay is on GPIO %d, not %u (dtoverlay=dht11,gpiopin=%u)",
                 other_pin, pin, pin);
        return HV_EINVAL;
    }
    snprintf(err, errlen,
             "dht22: no dht11 IIO device under %s (add dtoverlay=dht11,gpiopin=%u to "
             "/boot/config.txt)",
             lx->iio_dir, pin);
    return HV_ENOENT;
}

/* Reads one value file through the seam: 0, or an errno. */
static int read_value(const char *dir, const char *file, long *ret)
{
    char path[PATH_MAX], buf[32];
    if (!join(path, sizeof path, dir, file))
        return ENAMETOOLONG;
    int fd = hv_linux_sys.open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    ssize_t n;
    do
        n = hv_linux_sys.read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    int e = n < 0 ? errno : 0;
    hv_linux_sys.close(fd);
    if (n <= 0)
        return n < 0 ? e : EIO;
    buf[n] = '\0';
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (end == buf || errno != 0)
        return EIO;
    *ret = v;
    return 0;
}

/* One attempt: 0 with a plausible reading, or an errno. */
static int read_once(const char *dir, float *temp, float *hum)
{
    long t, rh;
    int e = read_value(dir, "in_temp_input", &t);
    if (e == 0)
        e = read_value(dir, "in_humidityrelative_input", &rh);
    if (e != 0)
        return e;
    if (t < -40000 || t > 80000 || rh < 0 || rh > 100000)
        return ERANGE; /* a corrupted frame that passed the checksum */
    *temp = (float)t / 1000.0f;
    *hum = (float)rh / 1000.0f;
    return 0;
}

static int read_sensor(hv_linux_t *lx, unsigned pin, hv_linux_dht_t *c, uint64_t now)
{
    char dir[PATH_MAX];
    int rc = find_device(lx, pin, dir, c->err, sizeof c->err);
    if (rc != HV_OK)
        return rc;
    int e = 0;
    for (int i = 0; i < HV_LINUX_DHT_ATTEMPTS; i++) {
        if (i > 0)
            hv_linux_sys.sleep_ms(HV_LINUX_DHT_RETRY_MS);
        float t, h;
        e = read_once(dir, &t, &h);
        if (e == 0) {
            c->temp = t;
            c->hum = h;
            c->have = true;
            c->good_ms = now;
            return HV_OK;
        }
        if (e != EIO && e != ETIMEDOUT && e != EAGAIN && e != ERANGE)
            break; /* not the sensor's timing: no point retrying */
    }
    if (e == ENOENT) {
        snprintf(c->err, sizeof c->err, "dht22: %.100s has no temperature/humidity files", dir);
        return HV_ENOENT;
    }
    snprintf(c->err, sizeof c->err, "dht22: no valid reading from GPIO %u after %d attempts (%s)",
             pin, HV_LINUX_DHT_ATTEMPTS, e == ERANGE ? "values out of range" : strerror(e));
    return HV_EIO;
}

int hv_linux_dht22_read(hv_hal_t *h, unsigned pin, float *ret_temp, float *ret_hum, char *err,
                        size_t errlen)
{
    hv_linux_t *lx = LX(h);
    if (pin >= HV_LINUX_NPINS) {
        snprintf(err, errlen, "dht22: no pin %u (0..%d)", pin, HV_LINUX_NPINS - 1);
        return HV_EINVAL;
    }
    pthread_mutex_lock(&lx->dht_lock);
    hv_linux_dht_t *c = &lx->dht[pin];
    uint64_t now = hv_linux_sys.now_ms();
    if (!c->valid || now - c->at_ms >= HV_LINUX_DHT_MIN_INTERVAL_MS) {
        c->rc = read_sensor(lx, pin, c, now);
        c->valid = true;
        c->at_ms = now;
    }
    /* A failed read falls back on a recent good one. */
    int rc = c->rc;
    if (rc != HV_OK && c->have && now - c->good_ms <= HV_LINUX_DHT_STALE_MS)
        rc = HV_OK;
    if (rc == HV_OK) {
        *ret_temp = c->temp;
        *ret_hum = c->hum;
    } else {
        snprintf(err, errlen, "%s", c->err);
    }
    pthread_mutex_unlock(&lx->dht_lock);
    return rc;
}
