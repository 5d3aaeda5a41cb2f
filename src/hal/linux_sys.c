/*
 * System figures from sys_root ("" on the board): the SoC temperature
 * from the first thermal zone, memory from /proc/meminfo (used = MemTotal
 * - MemAvailable), CPU usage from /proc/stat (the busy share of the
 * jiffies since the previous call; the first call: since boot), uptime
 * from /proc/uptime. An unreadable file gives 0.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "linux_impl.h"

static FILE *open_sys(hv_linux_t *lx, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s", lx->sys_root, rel);
    return fopen(path, "r");
}

float hv_linux_cpu_temp(hv_hal_t *h)
{
    FILE *f = open_sys(LX(h), "/sys/class/thermal/thermal_zone0/temp");
    long milli = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld", &milli) != 1)
            milli = 0;
        fclose(f);
    }
    return (float)milli / 1000.0f;
}

float hv_linux_cpu_usage(hv_hal_t *h)
{
    hv_linux_t *lx = LX(h);
    unsigned long long v[8] = {0};
    FILE *f = open_sys(lx, "/proc/stat");
    int n = 0;
    if (f != NULL) {
        /* cpu user nice system idle iowait irq softirq steal (guest is in user) */
        n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
        fclose(f);
    }
    pthread_mutex_lock(&lx->sys_lock);
    if (n >= 4) {
        uint64_t total = 0, idle = v[3] + v[4];
        for (int i = 0; i < 8; i++)
            total += v[i];
        if (total > lx->cpu_total && idle >= lx->cpu_idle) {
            uint64_t dt = total - lx->cpu_total, di = idle - lx->cpu_idle;
            lx->cpu_last = di >= dt ? 0.0f : (float)(100.0 * (double)(dt - di) / (double)dt);
        }
        /* else: the same jiffy as last time; the last figure stands */
        lx->cpu_total = total;
        lx->cpu_idle = idle;
    }
    float r = lx->cpu_last;
    pthread_mutex_unlock(&lx->sys_lock);
    return r;
}

void hv_linux_memory_mb(hv_hal_t *h, uint32_t *ret_used, uint32_t *ret_total)
{
    unsigned long long total = 0, avail = 0, v;
    char key[64];
    FILE *f = open_sys(LX(h), "/proc/meminfo");
    while (f != NULL && fscanf(f, "%63s %llu kB", key, &v) == 2) {
        if (strcmp(key, "MemTotal:") == 0)
            total = v;
        else if (strcmp(key, "MemAvailable:") == 0)
            avail = v;
    }
    if (f != NULL)
        fclose(f);
    *ret_total = (uint32_t)(total / 1024);
    *ret_used = (uint32_t)((total - (avail < total ? avail : total)) / 1024);
}

uint64_t hv_linux_uptime_s(hv_hal_t *h)
{
    FILE *f = open_sys(LX(h), "/proc/uptime");
    double up = 0;
    if (f != NULL) {
        if (fscanf(f, "%lf", &up) != 1 || !(up >= 0))
            up = 0;
        fclose(f);
    }
    return (uint64_t)up;
}
