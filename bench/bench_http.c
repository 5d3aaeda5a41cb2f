/*
 * HTTP figures: serves /api/readings with 50 sensors' readings on a free
 * port and prints it, so bench/run.sh can point wrk at it; then measures
 * SSE fan-out to N clients (each gets every event).
 *   bench_http serve          -> prints the port, serves until stdin closes
 *   bench_http sse N events   -> N clients, `events` publishes, delivery time
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hv_http.h"

static char *readings;

static char *get_readings(void *ud)
{
    (void)ud;
    return strdup(readings);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_readings(void)
{
    size_t cap = 1 << 16, n = 0;
    readings = malloc(cap);
    n += (size_t)snprintf(readings + n, cap - n, "[");
    for (int i = 0; i < 50; i++)
        n += (size_t)snprintf(readings + n, cap - n,
                              "%s{\"sensor_id\":\"node-%d:bme680\",\"plugin\":\"bme680\","
                              "\"timestamp\":1795620000000,\"data\":{\"temperature\":22.5,"
                              "\"humidity\":45.0,\"pressure\":1013.25,\"iaq\":42}}",
                              i ? "," : "", i);
    snprintf(readings + n, cap - n, "]");
}

static int sse_client(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    const char req[] = "GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
    if (write(fd, req, sizeof req - 1) < 0)
        return -1;
    return fd;
}

int main(int argc, char **argv)
{
    make_readings();
    hv_http_opts_t o = {.bind = "127.0.0.1", .port = 0, .node_id = "bench", .role = "hub",
                        .readings_json = get_readings};
    hv_http_t *h;
    char err[256];
    if (hv_http_start(&o, &h, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "sse") == 0) {
        int n = argc > 2 ? atoi(argv[2]) : 100, events = argc > 3 ? atoi(argv[3]) : 100;
        int *fds = calloc((size_t)n, sizeof *fds);
        for (int i = 0; i < n; i++)
            fds[i] = sse_client(hv_http_port(h));
        usleep(300000); /* let every stream start */
        double t0 = now_s();
        for (int e = 0; e < events; e++)
            hv_http_publish(h, "reading", readings);
        /* Count "event: reading" lines per client until all have them all. */
        long need = (long)n * events, got = 0;
        char buf[65536];
        while (got < need && now_s() - t0 < 30) {
            for (int i = 0; i < n; i++) {
                struct pollfd p = {fds[i], POLLIN, 0};
                if (fds[i] < 0 || poll(&p, 1, 0) <= 0)
                    continue;
                ssize_t k = read(fds[i], buf, sizeof buf - 1);
                if (k <= 0)
                    continue;
                buf[k] = '\0';
                for (char *s = buf; (s = strstr(s, "event: reading")) != NULL; s++)
                    got++;
            }
        }
        double dt = now_s() - t0;
        printf("SSE: %d clients x %d events of %zu bytes: %ld/%ld delivered in %.3f s (%.0f "
               "events/s)\n",
               n, events, strlen(readings), got, need, dt, (double)got / dt);
    } else {
        printf("%d\n", hv_http_port(h));
        fflush(stdout);
        char c;
        while (read(0, &c, 1) > 0)
            ;
    }
    hv_http_stop(h);
    free(readings);
    return 0;
}
