/*
 * The sandboxed Python engine against the real runtime: Python works, the
 * sandbox holds, faults are contained, instances are independent.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv_engine.h"

static hv_engine_t *eng;

/* Captured guest output: "fd:line\n" appended per line. */
typedef struct {
    pthread_mutex_t lock;
    char text[65536];
    size_t len;
} capture_t;

static void on_output(void *ud, int fd, const char *line, size_t len)
{
    capture_t *c = ud;
    pthread_mutex_lock(&c->lock);
    int n = snprintf(c->text + c->len, sizeof c->text - c->len, "%d:%.*s\n", fd, (int)len, line);
    if (n > 0 && (size_t)n < sizeof c->text - c->len)
        c->len += (size_t)n;
    pthread_mutex_unlock(&c->lock);
}

static hv_instance_t *new_python(capture_t *cap, uint32_t memory_mb, uint32_t deadline_ms)
{
    hv_instance_opts_t o = {0};
    o.output = cap ? on_output : NULL;
    o.output_ud = cap;
    o.memory_limit_mb = memory_mb;
    o.deadline_ms = deadline_ms;
    hv_instance_t *inst = NULL;
    assert_int_equal(hv_instance_new(eng, &o, &inst), HV_OK);
    assert_int_equal(hv_instance_init_python(inst), HV_OK);
    return inst;
}

static int run(hv_instance_t *inst, const char *src)
{
    return hv_instance_exec(inst, src, strlen(src), "<test>");
}

static void assert_fresh_instance_works(void)
{
    hv_instance_t *inst = new_python(NULL, 0, 0);
    assert_int_equal(run(inst, "def add(a):\n    return str(int(a) + 1)\n"), HV_OK);
    assert_int_equal(hv_instance_call(inst, "add", "41", 2), HV_OK);
    assert_string_equal(hv_instance_result(inst, NULL), "42");
    hv_instance_free(inst);
}

static void test_stdlib_and_output(void **state)
{
    (void)state;
    capture_t cap = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};
    hv_instance_t *inst = new_python(&cap, 0, 0);
    assert_int_equal(run(inst, "import json, struct, math, re, dataclasses, sys\n"
                               "@dataclasses.dataclass\n"
                               "class P:\n    x: int\n"
                               "print(json.dumps({'p': P(3).x, 'pack': struct.pack('<H', 258).hex(),"
                               " 'r': re.sub('a+', 'b', 'caaat'), 'pi': round(math.pi, 3)}))\n"
                               "print('partial', end='')\n"
                               "sys.stderr.write('to stderr\\n')\n"),
                     HV_OK);
    assert_non_null(strstr(cap.text, "1:{\"p\": 3, \"pack\": \"0201\", \"r\": \"cbt\", \"pi\": 3.142}\n"));
    assert_non_null(strstr(cap.text, "2:to stderr\n"));
    assert_non_null(strstr(cap.text, "1:partial\n")); /* flushed at the end of the call */
    hv_instance_free(inst);
}

static void test_exception_traceback(void **state)
{
    (void)state;
    hv_instance_t *inst = new_python(NULL, 0, 0);
    assert_int_equal(run(inst, "def f():\n    raise ValueError('boom')\nf()\n"), HV_EEXCEPTION);
    const char *tb = hv_instance_result(inst, NULL);
    assert_non_null(strstr(tb, "Traceback (most recent call last)"));
    assert_non_null(strstr(tb, "line 2, in f"));
    assert_non_null(strstr(tb, "ValueError: boom"));
    assert_false(hv_instance_dead(inst)); /* an exception is not a trap */
    assert_int_equal(run(inst, "x = 1"), HV_OK);
    hv_instance_free(inst);
}

static void test_sys_exit(void **state)
{
    (void)state;
    hv_instance_t *inst = new_python(NULL, 0, 0);
    assert_int_equal(run(inst, "import sys\nsys.exit(3)\n"), HV_EEXIT);
    assert_int_equal(hv_instance_exit_code(inst), 3);
    hv_instance_free(inst);

    /* As the `python` command: status 3 too. */
    const char *argv[] = {"python", "-c", "import sys; sys.exit(3)", NULL};
    hv_instance_opts_t o = {0};
    o.argv = argv;
    assert_int_equal(hv_instance_new(eng, &o, &inst), HV_OK);
    int status = -1;
    assert_int_equal(hv_instance_main(inst, &status), HV_OK);
    assert_int_equal(status, 3);
    hv_instance_free(inst);
}

static void test_state_persists(void **state)
{
    (void)state;
    hv_instance_t *inst = new_python(NULL, 0, 0);
    assert_int_equal(run(inst, "total = 0\n"
                               "def bump(x: str) -> str:\n"
                               "    global total\n"
                               "    total += int(x)\n"
                               "    return str(total)\n"),
                     HV_OK);
    assert_int_equal(hv_instance_call(inst, "bump", "2", 1), HV_OK);
    assert_string_equal(hv_instance_result(inst, NULL), "2");
    assert_int_equal(hv_instance_call(inst, "bump", "40", 2), HV_OK);
    assert_string_equal(hv_instance_result(inst, NULL), "42");
    assert_int_equal(hv_instance_call(inst, "missing", "", 0), HV_EEXCEPTION);
    assert_non_null(strstr(hv_instance_result(inst, NULL), "plugin has no function 'missing'"));
    hv_instance_free(inst);
}

static void test_sandbox_holds(void **state)
{
    (void)state;
    capture_t cap = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};
    hv_instance_t *inst = new_python(&cap, 0, 0);
    /* Each attempt must raise inside Python; success is a test failure. */
    static const char *attempts[] = {
        "open('/etc/passwd').read()",
        "open('../../x')",
        "os.listdir('/')",
        "import socket; socket.socket()",
        "open('/lib/python3.11/evil.py', 'w')",
        "open('/tmp/hv-sandbox-escape', 'w')",
        "os.mkdir('/lib/python3.11/d')",
        "os.remove('/lib/python3.11/os.py')",
        "open('/lib/python3.11/../../../etc/passwd')",
    };
    for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
        char src[512];
        snprintf(src, sizeof src,
                 "import os\n"
                 "try:\n    %s\nexcept OSError as e:\n    print('denied', type(e).__name__)\n"
                 "else:\n    raise AssertionError('sandbox escape: ' + %s)\n",
                 attempts[i], "'attempt'");
        cap.len = 0;
        assert_int_equal(run(inst, src), HV_OK);
        assert_non_null(strstr(cap.text, "1:denied "));
    }
    /* Reading its own stdlib is allowed. */
    assert_int_equal(run(inst, "assert 'os.py' in os.listdir('/lib/python3.11')\n"), HV_OK);
    assert_int_equal(access("/tmp/hv-sandbox-escape", F_OK), -1);
    hv_instance_free(inst);
}

static void test_deadline_stops_busy_loop(void **state)
{
    (void)state;
    hv_instance_t *inst = new_python(NULL, 0, 300);
    assert_int_equal(run(inst, "while True: pass\n"), HV_ETRAP_DEADLINE);
    assert_true(hv_instance_dead(inst));
    assert_int_equal(run(inst, "x = 1"), HV_EDEAD);
    hv_instance_free(inst);
    assert_fresh_instance_works();
}

static void test_deadline_during_sleep(void **state)
{
    (void)state;
    /* Inside an import (the sleep) the deadline does not unwind host code:
     * it wakes the sleep, and the trap happens as the import returns. */
    hv_instance_t *inst = new_python(NULL, 0, 300);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(run(inst, "import time\ntime.sleep(10)\n"), HV_ETRAP_DEADLINE);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_true(b.tv_sec - a.tv_sec < 10);
    hv_instance_free(inst);
}

static void test_memory_cap(void **state)
{
    (void)state;
    hv_instance_t *inst = new_python(NULL, 64, 0);
    assert_int_equal(run(inst, "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))\n"),
                     HV_EEXCEPTION);
    assert_non_null(strstr(hv_instance_result(inst, NULL), "MemoryError"));
    assert_true(hv_instance_memory_size(inst) <= 64u << 20);
    /* Python recovered: the instance still works once the list is gone. */
    assert_int_equal(run(inst, "chunks = None\nimport gc\ngc.collect()\ny = [0] * 1000\n"), HV_OK);
    hv_instance_free(inst);
    assert_fresh_instance_works();
}

static void test_recursion(void **state)
{
    (void)state;
    hv_instance_t *inst = new_python(NULL, 0, 0);
    assert_int_equal(run(inst, "def f():\n    f()\nf()\n"), HV_EEXCEPTION);
    assert_non_null(strstr(hv_instance_result(inst, NULL), "RecursionError"));
    /* C-level recursion past every Python guard exhausts the stack: a trap. */
    int rc = run(inst, "import sys\nsys.setrecursionlimit(10**8)\nl = []\n"
                       "for i in range(10**6):\n    l = [l]\nrepr(l)\n");
    assert_int_equal(rc, HV_ETRAP_EXHAUSTION);
    hv_instance_free(inst);
    assert_fresh_instance_works();
}

static long vm_size_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void test_create_destroy_no_growth(void **state)
{
    (void)state;
    hv_instance_t *base = new_python(NULL, 0, 0);
    hv_snapshot_t *snap;
    assert_int_equal(hv_snapshot_take(base, &snap), HV_OK);
    hv_instance_opts_t o = {0};
    for (int i = 0; i < 20; i++) { /* warm-up: allocator arenas settle */
        hv_instance_t *x;
        assert_int_equal(hv_instance_from_snapshot(snap, &o, &x), HV_OK);
        hv_instance_free(x);
    }
    long before = vm_size_kb();
    for (int i = 0; i < 1000; i++) {
        hv_instance_t *x;
        assert_int_equal(hv_instance_from_snapshot(snap, &o, &x), HV_OK);
        if (i % 100 == 0)
            assert_int_equal(run(x, "v = sum(range(10))\n"), HV_OK);
        hv_instance_free(x);
    }
    for (int i = 0; i < 20; i++) { /* cold ones too */
        hv_instance_t *x;
        assert_int_equal(hv_instance_new(eng, &o, &x), HV_OK);
        hv_instance_free(x);
    }
    long after = vm_size_kb();
    /* One leaked reservation alone would be 8 GiB. */
    assert_true(after - before < 64 * 1024);
    hv_snapshot_free(snap);
    hv_instance_free(base);
}

static void test_snapshot_copy_on_write(void **state)
{
    (void)state;
    capture_t cap = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};
    hv_instance_t *base = new_python(NULL, 0, 0);
    assert_int_equal(run(base, "import json\nx = 41\ndef get(_):\n    return str(x)\n"), HV_OK);
    hv_snapshot_t *snap;
    assert_int_equal(hv_snapshot_take(base, &snap), HV_OK);
    hv_instance_opts_t o = {0};
    o.output = on_output;
    o.output_ud = &cap;
    hv_instance_t *a, *b;
    assert_int_equal(hv_instance_from_snapshot(snap, &o, &a), HV_OK);
    assert_int_equal(run(a, "x = 0\nprint('a sees', x + 1, json.dumps([x]))\n"), HV_OK);
    assert_non_null(strstr(cap.text, "1:a sees 1 [0]\n"));
    assert_int_equal(hv_instance_from_snapshot(snap, &o, &b), HV_OK);
    assert_int_equal(hv_instance_call(b, "get", "", 0), HV_OK);
    assert_string_equal(hv_instance_result(b, NULL), "41");
    assert_int_equal(hv_instance_call(base, "get", "", 0), HV_OK);
    assert_string_equal(hv_instance_result(base, NULL), "41");
    hv_instance_free(a);
    hv_instance_free(b);
    hv_snapshot_free(snap);
    hv_instance_free(base);
}

static int host_echo(void *ud, const char *name, size_t nlen, const uint8_t *in, size_t inlen,
                     uint8_t **ret_out, size_t *ret_len)
{
    (void)ud;
    if (nlen == 4 && memcmp(name, "echo", 4) == 0) {
        uint8_t *out = malloc(inlen + 1);
        for (size_t i = 0; i < inlen; i++)
            out[i] = in[inlen - 1 - i];
        *ret_out = out;
        *ret_len = inlen;
        return 0;
    }
    *ret_out = (uint8_t *)strdup("permission denied: no such capability");
    *ret_len = strlen((char *)*ret_out);
    return -1;
}

static void test_host_call(void **state)
{
    (void)state;
    hv_instance_opts_t o = {0};
    o.hostcall = host_echo;
    hv_instance_t *inst;
    assert_int_equal(hv_instance_new(eng, &o, &inst), HV_OK);
    assert_int_equal(hv_instance_init_python(inst), HV_OK);
    assert_int_equal(run(inst, "import _harvester\n"
                               "assert _harvester.call('echo', b'abc') == b'cba'\n"
                               "try:\n    _harvester.call('i2c', b'')\n"
                               "except OSError as e:\n    msg = str(e)\n"
                               "assert msg == 'permission denied: no such capability', msg\n"),
                     HV_OK);
    hv_instance_free(inst);
}

/* ---- two instances on two threads ---------------------------------------- */

typedef struct {
    const char *src;
    uint32_t deadline_ms;
    int rc;
    volatile int started, done;
} sleeper_t;

static void *sleeper_main(void *p)
{
    sleeper_t *s = p;
    hv_instance_t *inst = new_python(NULL, 0, s->deadline_ms);
    __atomic_store_n(&s->started, 1, __ATOMIC_SEQ_CST);
    s->rc = run(inst, s->src);
    __atomic_store_n(&s->done, 1, __ATOMIC_SEQ_CST);
    hv_instance_free(inst);
    return NULL;
}

static int calls_while_other_runs(sleeper_t *s, int *ret_failures)
{
    hv_instance_t *inst = new_python(NULL, 0, 0);
    assert_int_equal(run(inst, "n = 0\ndef tick(_):\n    global n\n    n += 1\n    return str(n)\n"),
                     HV_OK);
    pthread_t t;
    pthread_create(&t, NULL, sleeper_main, s);
    while (!__atomic_load_n(&s->started, __ATOMIC_SEQ_CST))
        sched_yield();
    int calls = 0, failures = 0;
    while (!__atomic_load_n(&s->done, __ATOMIC_SEQ_CST)) {
        if (hv_instance_call(inst, "tick", "", 0) != HV_OK)
            failures++;
        calls++;
    }
    pthread_join(t, NULL);
    char want[32];
    assert_int_equal(hv_instance_call(inst, "tick", "", 0), HV_OK);
    snprintf(want, sizeof want, "%d", calls + 1);
    assert_string_equal(hv_instance_result(inst, NULL), want); /* no call lost or repeated */
    hv_instance_free(inst);
    *ret_failures = failures;
    return calls;
}

static void test_threads_sleep_and_trap(void **state)
{
    (void)state;
    int failures;
    sleeper_t sleeper = {"import time\ntime.sleep(1)\n", 0, -1, 0, 0};
    int calls = calls_while_other_runs(&sleeper, &failures);
    assert_int_equal(sleeper.rc, HV_OK);
    assert_int_equal(failures, 0);
    assert_true(calls > 10); /* the sleeping instance blocked only its own thread */

    sleeper_t spinner = {"while True: pass\n", 300, -1, 0, 0};
    calls = calls_while_other_runs(&spinner, &failures);
    assert_int_equal(spinner.rc, HV_ETRAP_DEADLINE);
    assert_int_equal(failures, 0); /* the trap on one thread did not disturb this one */
    assert_true(calls > 10);
}

static int setup(void **state)
{
    (void)state;
    char err[1024];
    const char *rt = getenv("HARVESTER_RUNTIME");
    hv_engine_opts_t o = {rt && *rt ? rt : HV_RUNTIME_DIR, NULL, NULL, 0};
    int rc = hv_engine_open(&o, &eng, err, sizeof err);
    if (rc != HV_OK)
        fprintf(stderr, "engine: %s\n", err);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    hv_engine_close(eng);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdlib_and_output),
        cmocka_unit_test(test_exception_traceback),
        cmocka_unit_test(test_sys_exit),
        cmocka_unit_test(test_state_persists),
        cmocka_unit_test(test_sandbox_holds),
        cmocka_unit_test(test_deadline_stops_busy_loop),
        cmocka_unit_test(test_deadline_during_sleep),
        cmocka_unit_test(test_memory_cap),
        cmocka_unit_test(test_recursion),
        cmocka_unit_test(test_create_destroy_no_growth),
        cmocka_unit_test(test_snapshot_copy_on_write),
        cmocka_unit_test(test_host_call),
        cmocka_unit_test(test_threads_sleep_and_trap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
