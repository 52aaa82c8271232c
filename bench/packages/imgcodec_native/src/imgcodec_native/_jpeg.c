/* Grayscale JPEG encoder / header reader on top of libjpeg (dfopt benchmark).
 *
 * libjpeg reports fatal errors through error_exit(), which must not return;
 * the usual setjmp/longjmp pattern turns them into Python exceptions.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

struct error_mgr {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void
on_error(j_common_ptr cinfo)
{
    struct error_mgr *err = (struct error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

/* encode_gray(width, height, pixels, quality=85) -> bytes */
static PyObject *
encode_gray(PyObject *self, PyObject *args)
{
    int width, height, quality = 85;
    Py_buffer pixels;
    struct jpeg_compress_struct cinfo;
    struct error_mgr err;
    unsigned char *volatile out = NULL;
    unsigned long out_len = 0;
    PyObject *result;

    if (!PyArg_ParseTuple(args, "iiy*|i", &width, &height, &pixels, &quality))
        return NULL;
    if (width <= 0 || height <= 0 || pixels.len != (Py_ssize_t)width * height) {
        PyBuffer_Release(&pixels);
        PyErr_SetString(PyExc_ValueError, "pixels must hold exactly width*height bytes");
        return NULL;
    }
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(out);
        PyBuffer_Release(&pixels);
        PyErr_SetString(PyExc_RuntimeError, err.message);
        return NULL;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&out, &out_len);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 1;
    cinfo.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)((unsigned char *)pixels.buf + (size_t)cinfo.next_scanline * width);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    PyBuffer_Release(&pixels);
    result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)out_len);
    free(out);
    return result;
}

/* jpeg_size(data) -> (width, height, components) read from the JPEG header */
static PyObject *
jpeg_size(PyObject *self, PyObject *args)
{
    Py_buffer data;
    struct jpeg_decompress_struct dinfo;
    struct error_mgr err;
    PyObject *result;

    if (!PyArg_ParseTuple(args, "y*", &data))
        return NULL;
    dinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&dinfo);
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, err.message);
        return NULL;
    }
    jpeg_create_decompress(&dinfo);
    jpeg_mem_src(&dinfo, (const unsigned char *)data.buf, (unsigned long)data.len);
    jpeg_read_header(&dinfo, TRUE);
    result = Py_BuildValue("(iii)", (int)dinfo.image_width, (int)dinfo.image_height,
                           dinfo.num_components);
    jpeg_destroy_decompress(&dinfo);
    PyBuffer_Release(&data);
    return result;
}

static PyMethodDef methods[] = {
    {"encode_gray", encode_gray, METH_VARARGS, "Encode 8-bit grayscale pixels as JPEG."},
    {"jpeg_size", jpeg_size, METH_VARARGS, "Width, height and components of a JPEG."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_jpeg", "libjpeg binding", -1, methods,
};

PyMODINIT_FUNC
PyInit__jpeg(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "JPEG_LIB_VERSION", JPEG_LIB_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
