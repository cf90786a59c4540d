/* A plain C extension using cyloss's kernels through the C-API capsule: no linking. */
#define PY_SSIZE_T_CLEAN
#define CYLOSS_IMPORT_CAPI
#include <cyloss.h>

/* logsumexp(values) for a sequence of floats */
static PyObject *logsumexp(PyObject *self, PyObject *arg)
{
    (void)self;
    PyObject *seq = PySequence_Fast(arg, "logsumexp() needs a sequence of numbers");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    double *buf = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!buf) { Py_DECREF(seq); return PyErr_NoMemory(); }
    for (Py_ssize_t i = 0; i < n; i++) {
        buf[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, i));
        if (buf[i] == -1.0 && PyErr_Occurred()) { PyMem_Free(buf); Py_DECREF(seq); return NULL; }
    }
    Py_DECREF(seq);
    double out = 0.0;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = cyl_capi->logsumexp_f64(1, n, buf, n, NULL, 0, &out, NULL);
    Py_END_ALLOW_THREADS
    PyMem_Free(buf);
    if (status != CYL_OK) { PyErr_SetString(PyExc_RuntimeError, "cyloss kernel failed"); return NULL; }
    return PyFloat_FromDouble(out);
}

static PyMethodDef methods[] = {
    {"logsumexp", logsumexp, METH_O, "log(sum(exp(values))) computed by cyloss."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "capi_demo", NULL, -1, methods};

PyMODINIT_FUNC PyInit_capi_demo(void)
{
    if (cyl_import_capi() < 0) return NULL;
    return PyModule_Create(&module);
}
