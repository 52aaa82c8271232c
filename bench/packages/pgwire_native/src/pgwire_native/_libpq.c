/* Minimal libpq binding for the dfopt benchmark.
 *
 * Every function calls into libpq, so importing the module proves the shared
 * library (libpq.so.5) is present at run time, and building it proves the
 * headers were present at build time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <libpq-fe.h>

static PyObject *
lib_version(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(PQlibVersion());
}

static PyObject *
is_threadsafe(PyObject *self, PyObject *unused)
{
    return PyBool_FromLong(PQisthreadsafe());
}

/* parse_dsn(dsn) -> dict of the options libpq understood (keyword=value or URI). */
static PyObject *
parse_dsn(PyObject *self, PyObject *args)
{
    const char *dsn;
    char *err = NULL;
    PQconninfoOption *opts, *o;
    PyObject *result;

    if (!PyArg_ParseTuple(args, "s", &dsn))
        return NULL;
    opts = PQconninfoParse(dsn, &err);
    if (opts == NULL) {
        PyErr_SetString(PyExc_ValueError, err ? err : "out of memory while parsing DSN");
        if (err)
            PQfreemem(err);
        return NULL;
    }
    result = PyDict_New();
    for (o = opts; result != NULL && o->keyword != NULL; o++) {
        PyObject *value;
        if (o->val == NULL)
            continue;
        value = PyUnicode_DecodeUTF8(o->val, (Py_ssize_t)strlen(o->val), "replace");
        if (value == NULL || PyDict_SetItemString(result, o->keyword, value) < 0)
            Py_CLEAR(result);
        Py_XDECREF(value);
    }
    PQconninfoFree(opts);
    return result;
}

/* ping(dsn) -> one of PING_OK, PING_REJECT, PING_NO_RESPONSE, PING_NO_ATTEMPT. */
static PyObject *
ping(PyObject *self, PyObject *args)
{
    const char *dsn;
    PGPing rc;

    if (!PyArg_ParseTuple(args, "s", &dsn))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = PQping(dsn);
    Py_END_ALLOW_THREADS
    return PyLong_FromLong((long)rc);
}

static PyMethodDef methods[] = {
    {"lib_version", lib_version, METH_NOARGS, "PQlibVersion(): libpq's version as an integer."},
    {"is_threadsafe", is_threadsafe, METH_NOARGS, "PQisthreadsafe()."},
    {"parse_dsn", parse_dsn, METH_VARARGS, "Parse a connection string with PQconninfoParse()."},
    {"ping", ping, METH_VARARGS, "PQping(): is a server accepting connections?"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_libpq", "libpq binding", -1, methods,
};

PyMODINIT_FUNC
PyInit__libpq(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "PING_OK", PQPING_OK) < 0
        || PyModule_AddIntConstant(m, "PING_REJECT", PQPING_REJECT) < 0
        || PyModule_AddIntConstant(m, "PING_NO_RESPONSE", PQPING_NO_RESPONSE) < 0
        || PyModule_AddIntConstant(m, "PING_NO_ATTEMPT", PQPING_NO_ATTEMPT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
