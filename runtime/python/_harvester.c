/*
 * _harvester: the guest half of the host ABI, compiled into python.wasm.
 *
 * Exports (called by the host engine, see src/engine/instance.c):
 *   hv_main()                      run as the `python` command (WASI args)
 *   hv_init()                      start an embedded interpreter for a plugin
 *   hv_exec(src, len, name, nlen)  run source in __main__
 *   hv_call(fn, fnlen, arg, alen)  call __main__.fn(arg: str) -> str | bytes
 *   hv_result_ptr(), hv_result_len(), hv_exit_code()
 *   hv_alloc(n), hv_free(p)        guest heap for host-written arguments
 *
 * hv_exec/hv_call return HV_GUEST_OK, HV_GUEST_EXCEPTION (the formatted
 * traceback is the result) or HV_GUEST_EXIT (SystemExit; see hv_exit_code).
 *
 * Imports (module "harvester"), the generic capability call the WIT layer
 * dispatches on:
 *   call(name, nlen, in, inlen) -> i32  >= 0: result length; < 0: error
 *                                       message of length -r - 1
 *   take(dst)                           copy the pending result/error to dst
 *
 *   resolve(name, nlen) -> i32          >= 0: id of import "iface#func";
 *                                       < 0: error, as for call
 *   invoke(fid, args, nargs, ret) -> i32  0, or < 0: error, as for call
 * An error message's first byte is its kind: 'P' refused (permission),
 * 'L' unknown name, 'V' bad arguments, anything else a host failure.
 *
 * Canonical ABI exports (the WIT layer, src/abi/):
 *   cabi_realloc(old, old_size, align, new_size)
 *   hv_export(fid, args, nargs, ret) -> status   harvester._dispatch(...)
 *   hv_post_return(fid)                          harvester._post_return(fid)
 *
 * Python API:  _harvester.call(name: str, payload: bytes) -> bytes
 *              raising OSError(message) when the host refuses or fails;
 *              memory(), alloc(), free(), resolve(), invoke(): the
 *              primitives of the `harvester` SDK (runtime/sdk/).
 */
#define PY_SSIZE_T_CLEAN
#include "Python.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define HV_EXPORT(name) __attribute__((export_name(#name), used))
#define HV_IMPORT(name) __attribute__((import_module("harvester"), import_name(#name)))

enum { HV_GUEST_OK = 0, HV_GUEST_EXCEPTION = 1, HV_GUEST_EXIT = 2, HV_GUEST_NOMEM = 3 };

HV_IMPORT(call) int32_t hv_host_call(const char *name, uint32_t name_len, const uint8_t *in,
                                     uint32_t in_len);
HV_IMPORT(take) void hv_host_take(uint8_t *dst);
HV_IMPORT(resolve) int32_t hv_host_resolve(const char *name, uint32_t name_len);
HV_IMPORT(invoke) int32_t hv_host_invoke(uint32_t fid, const uint8_t *args, uint32_t nargs,
                                         uint32_t ret);

/* The last result of hv_exec/hv_call; owned here, valid until the next call. */
static char *result_buf;
static uint32_t result_len;
static int32_t exit_code;

static void set_result(const char *data, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        len = 0;
    } else {
        memcpy(copy, data, len);
        copy[len] = '\0';
    }
    free(result_buf);
    result_buf = copy;
    result_len = (uint32_t)len;
}

HV_EXPORT(hv_result_ptr) char *hv_result_ptr(void) { return result_buf; }
HV_EXPORT(hv_result_len) uint32_t hv_result_len(void) { return result_len; }
HV_EXPORT(hv_exit_code) int32_t hv_exit_code(void) { return exit_code; }
HV_EXPORT(hv_alloc) void *hv_alloc(uint32_t n) { return malloc(n ? n : 1); }
HV_EXPORT(hv_free) void hv_free(void *p) { free(p); }

/* ---- Python module ---------------------------------------------------- */

static PyObject *harvester_call(PyObject *self, PyObject *args)
{
    const char *name;
    Py_ssize_t name_len;
    Py_buffer payload;
    (void)self;
    if (!PyArg_ParseTuple(args, "s#y*:call", &name, &name_len, &payload))
        return NULL;
    int32_t r = hv_host_call(name, (uint32_t)name_len, payload.buf, (uint32_t)payload.len);
    PyBuffer_Release(&payload);
    size_t len = r >= 0 ? (size_t)r : (size_t)(-(int64_t)r - 1);
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)len);
    if (bytes == NULL)
        return NULL;
    hv_host_take((uint8_t *)PyBytes_AS_STRING(bytes));
    if (r >= 0)
        return bytes;
    PyErr_Format(PyExc_OSError, "%s", PyBytes_AS_STRING(bytes));
    Py_DECREF(bytes);
    return NULL;
}

/* Raises the pending host error of a failed resolve/invoke (r < 0). */
static PyObject *raise_host_error(int32_t r)
{
    size_t len = (size_t)(-(int64_t)r - 1);
    char *msg = malloc(len + 1);
    if (msg == NULL)
        return PyErr_NoMemory();
    hv_host_take((uint8_t *)msg);
    msg[len] = '\0';
    PyObject *type = PyExc_OSError;
    if (len > 0 && msg[0] == 'P')
        type = PyExc_PermissionError;
    else if (len > 0 && msg[0] == 'L')
        type = PyExc_LookupError;
    else if (len > 0 && msg[0] == 'V')
        type = PyExc_ValueError;
    PyErr_SetString(type, len > 0 ? msg + 1 : "host call failed");
    free(msg);
    return NULL;
}

/* All of linear memory as one writable memoryview, re-made when it grows.
 * Address 0 is valid wasm memory, so the view starts at NULL on purpose. */
static PyObject *memory_view;
static size_t memory_view_size;

static PyObject *harvester_memory(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    size_t size = __builtin_wasm_memory_size(0) * 65536u;
    if (memory_view == NULL || memory_view_size != size) {
        PyObject *mv = PyMemoryView_FromMemory((char *)0, (Py_ssize_t)size, PyBUF_WRITE);
        if (mv == NULL)
            return NULL;
        Py_XDECREF(memory_view);
        memory_view = mv;
        memory_view_size = size;
    }
    Py_INCREF(memory_view);
    return memory_view;
}

static PyObject *harvester_alloc(PyObject *self, PyObject *args)
{
    unsigned long size, align;
    (void)self;
    if (!PyArg_ParseTuple(args, "kk:alloc", &size, &align))
        return NULL;
    if (align == 0 || align > 16 || (align & (align - 1)) != 0)
        return PyErr_Format(PyExc_ValueError, "bad alignment %lu", align);
    void *p = malloc(size ? size : 1); /* dlmalloc: 16-byte aligned */
    if (p == NULL)
        return PyErr_NoMemory();
    return PyLong_FromUnsignedLong((unsigned long)(uintptr_t)p);
}

static PyObject *harvester_free(PyObject *self, PyObject *arg)
{
    (void)self;
    unsigned long p = PyLong_AsUnsignedLong(arg);
    if (p == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    free((void *)(uintptr_t)p);
    Py_RETURN_NONE;
}

static PyObject *harvester_resolve(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_ssize_t n;
    const char *name = PyUnicode_AsUTF8AndSize(arg, &n);
    if (name == NULL)
        return NULL;
    int32_t r = hv_host_resolve(name, (uint32_t)n);
    return r >= 0 ? PyLong_FromLong(r) : raise_host_error(r);
}

static PyObject *harvester_invoke(PyObject *self, PyObject *args)
{
    unsigned long fid, ret;
    Py_buffer slots;
    (void)self;
    if (!PyArg_ParseTuple(args, "ky*k:invoke", &fid, &slots, &ret))
        return NULL;
    int32_t r = hv_host_invoke((uint32_t)fid, slots.buf, (uint32_t)(slots.len / 8), (uint32_t)ret);
    PyBuffer_Release(&slots);
    if (r < 0)
        return raise_host_error(r);
    Py_RETURN_NONE;
}

static PyMethodDef harvester_methods[] = {
    {"call", harvester_call, METH_VARARGS,
     "call(name, payload) -> bytes: invoke a host capability by name."},
    {"memory", harvester_memory, METH_NOARGS, "memory() -> memoryview of linear memory."},
    {"alloc", harvester_alloc, METH_VARARGS, "alloc(size, align) -> address."},
    {"free", harvester_free, METH_O, "free(address)."},
    {"resolve", harvester_resolve, METH_O, "resolve('iface#func') -> import id."},
    {"invoke", harvester_invoke, METH_VARARGS, "invoke(id, slots, ret): call an import."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef harvester_module = {
    PyModuleDef_HEAD_INIT, "_harvester", "Host capabilities of the harvester daemon.", -1,
    harvester_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__harvester(void) { return PyModule_Create(&harvester_module); }

/* ---- entry points ----------------------------------------------------- */

HV_EXPORT(hv_main) int32_t hv_main(void)
{
    __wasi_size_t argc = 0, buf_size = 0;
    if (__wasi_args_sizes_get(&argc, &buf_size) != 0)
        return 120;
    char **argv = calloc(argc + 1, sizeof(char *));
    char *buf = malloc(buf_size ? buf_size : 1);
    if (argv == NULL || buf == NULL || __wasi_args_get((uint8_t **)argv, (uint8_t *)buf) != 0)
        return 120;
    return Py_BytesMain((int)argc, argv);
}

HV_EXPORT(hv_init) int32_t hv_init(void)
{
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.buffered_stdio = 0;
    config.install_signal_handlers = 0;
    config.module_search_paths_set = 1;
    PyStatus st = PyWideStringList_Append(&config.module_search_paths, L"/lib/python3.11");
    if (!PyStatus_Exception(st))
        st = PyWideStringList_Append(&config.module_search_paths, L"/lib/sdk");
    if (!PyStatus_Exception(st))
        st = PyWideStringList_Append(&config.module_search_paths, L"/plugin");
    if (!PyStatus_Exception(st))
        st = PyConfig_SetString(&config, &config.program_name, L"harvester-plugin");
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        const char *msg = st.err_msg ? st.err_msg : "Python initialisation failed";
        set_result(msg, strlen(msg));
        return HV_GUEST_EXCEPTION;
    }
    return HV_GUEST_OK;
}

/* Turns the pending Python exception into a result code and result text. */
static int32_t take_exception(void)
{
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyObject *code = value ? PyObject_GetAttrString(value, "code") : NULL;
        exit_code = 0;
        if (code != NULL && PyLong_Check(code)) {
            exit_code = (int32_t)PyLong_AsLong(code);
        } else if (code != NULL && code != Py_None) {
            PyObject *s = PyObject_Str(code);
            const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
            if (text != NULL)
                set_result(text, strlen(text));
            Py_XDECREF(s);
            exit_code = 1;
        }
        Py_XDECREF(code);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        PyErr_Clear();
        return HV_GUEST_EXIT;
    }
    if (PyErr_ExceptionMatches(PyExc_MemoryError))
        exit_code = -1;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL)
        PyException_SetTraceback(value, tb);
    PyObject *text = NULL;
    PyObject *mod = PyImport_ImportModule("traceback");
    if (mod != NULL) {
        PyObject *lines = PyObject_CallMethod(mod, "format_exception", "OOO", type,
                                              value ? value : Py_None, tb ? tb : Py_None);
        if (lines != NULL) {
            PyObject *empty = PyUnicode_FromString("");
            if (empty != NULL)
                text = PyUnicode_Join(empty, lines);
            Py_XDECREF(empty);
            Py_DECREF(lines);
        }
        Py_DECREF(mod);
    }
    if (text == NULL && value != NULL) {
        PyErr_Clear();
        text = PyObject_Repr(value);
    }
    const char *utf8 = text ? PyUnicode_AsUTF8(text) : NULL;
    if (utf8 == NULL)
        utf8 = "exception (traceback unavailable)";
    set_result(utf8, strlen(utf8));
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    PyErr_Clear();
    return HV_GUEST_EXCEPTION;
}

static PyObject *main_dict(void)
{
    PyObject *m = PyImport_AddModule("__main__"); /* borrowed */
    return m ? PyModule_GetDict(m) : NULL;
}

HV_EXPORT(hv_exec)
int32_t hv_exec(const char *src, uint32_t len, const char *name, uint32_t name_len)
{
    set_result("", 0);
    PyObject *globals = main_dict();
    PyObject *fname = PyUnicode_FromStringAndSize(name, name_len);
    PyObject *code = NULL, *res = NULL;
    char *text = malloc((size_t)len + 1);
    if (globals == NULL || fname == NULL || text == NULL) {
        free(text);
        Py_XDECREF(fname);
        return PyErr_Occurred() ? take_exception() : HV_GUEST_NOMEM;
    }
    memcpy(text, src, len);
    text[len] = '\0';
    code = Py_CompileStringObject(text, fname, Py_file_input, NULL, -1);
    free(text);
    if (code != NULL)
        res = PyEval_EvalCode(code, globals, globals);
    Py_XDECREF(code);
    Py_DECREF(fname);
    if (res == NULL)
        return take_exception();
    Py_DECREF(res);
    return HV_GUEST_OK;
}

HV_EXPORT(hv_call)
int32_t hv_call(const char *fn, uint32_t fn_len, const char *arg, uint32_t arg_len)
{
    set_result("", 0);
    PyObject *globals = main_dict();
    PyObject *name = PyUnicode_FromStringAndSize(fn, fn_len);
    if (globals == NULL || name == NULL) {
        Py_XDECREF(name);
        return take_exception();
    }
    PyObject *callable = PyDict_GetItemWithError(globals, name); /* borrowed */
    if (callable == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_NameError, "plugin has no function '%U'", name);
        Py_DECREF(name);
        return take_exception();
    }
    Py_DECREF(name);
    PyObject *pyarg = PyUnicode_DecodeUTF8(arg, arg_len, "surrogateescape");
    PyObject *res = pyarg ? PyObject_CallOneArg(callable, pyarg) : NULL;
    Py_XDECREF(pyarg);
    if (res == NULL)
        return take_exception();
    if (PyBytes_Check(res)) {
        set_result(PyBytes_AS_STRING(res), (size_t)PyBytes_GET_SIZE(res));
    } else if (res != Py_None) {
        PyObject *s = PyUnicode_Check(res) ? (Py_INCREF(res), res) : PyObject_Str(res);
        Py_ssize_t n = 0;
        const char *utf8 = s ? PyUnicode_AsUTF8AndSize(s, &n) : NULL;
        if (utf8 == NULL) {
            Py_XDECREF(s);
            Py_DECREF(res);
            return take_exception();
        }
        set_result(utf8, (size_t)n);
        Py_DECREF(s);
    }
    Py_DECREF(res);
    return HV_GUEST_OK;
}

/* ---- canonical ABI exports -------------------------------------------- */

HV_EXPORT(cabi_realloc)
void *cabi_realloc(void *old, uint32_t old_size, uint32_t align, uint32_t new_size)
{
    (void)old_size;
    (void)align; /* <= 8 in the canonical ABI; dlmalloc gives 16 */
    return realloc(old, new_size ? new_size : 1);
}

/* harvester.<name>, looked up once (the SDK module lives for good). */
static PyObject *sdk_function(const char *name)
{
    PyObject *mod = PyImport_ImportModule("harvester");
    if (mod == NULL)
        return NULL;
    PyObject *fn = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return fn;
}

HV_EXPORT(hv_export)
int32_t hv_export(uint32_t fid, uint32_t args, uint32_t nargs, uint32_t ret)
{
    static PyObject *dispatch;
    set_result("", 0);
    if (dispatch == NULL && (dispatch = sdk_function("_dispatch")) == NULL)
        return take_exception();
    PyObject *res = PyObject_CallFunction(dispatch, "kkkk", (unsigned long)fid,
                                          (unsigned long)args, (unsigned long)nargs,
                                          (unsigned long)ret);
    if (res == NULL)
        return take_exception();
    Py_DECREF(res);
    return HV_GUEST_OK;
}

HV_EXPORT(hv_post_return) void hv_post_return(uint32_t fid)
{
    static PyObject *post;
    if (post == NULL && (post = sdk_function("_post_return")) == NULL) {
        PyErr_Clear();
        return;
    }
    PyObject *res = PyObject_CallFunction(post, "k", (unsigned long)fid);
    if (res == NULL)
        PyErr_Clear();
    Py_XDECREF(res);
}
