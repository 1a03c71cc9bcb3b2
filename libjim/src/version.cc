// Library version and the text of every error code.
#include <jim/common.h>

extern "C" {

JIM_EXTERN(const char *) jim_strerror(int code)
{
    switch (code) {
    case JIM_OK: return "success";
    case JIM_ERROR: return "error";
    case JIM_EINVAL: return "invalid argument";
    case JIM_ENOMEM: return "out of memory";
    case JIM_ENOTFOUND: return "not found";
    case JIM_EAGAIN: return "try again: more input needed or would block";
    case JIM_ESYNTAX: return "malformed JSON";
    case JIM_EUTF8: return "invalid UTF-8";
    case JIM_EDEPTH: return "JSON nested too deep";
    case JIM_ETOOBIG: return "object too large";
    case JIM_EFIELD: return "missing or wrong field";
    case JIM_EACTION: return "unknown action";
    case JIM_ERANGE: return "value out of range";
    case JIM_ECLOSED: return "stream closed";
    case JIM_EIO: return "I/O error";
    case JIM_EINTERNAL: return "internal error";
    case JIM_ESERVER: return "the server refused the request";
    case JIM_ETIMEDOUT: return "timed out";
    case JIM_ECONNECT: return "cannot connect";
    case JIM_ESTATE: return "not possible in this state";
    case JIM_ETLS: return "TLS failed";
    case JIM_EKEYCHANGED: return "the peer's key changed and is not trusted yet";
    default: return "unknown error";
    }
}

JIM_EXTERN(int) jim_version_number(void)
{
    return JIM_VERSION_NUMBER;
}

JIM_EXTERN(const char *) jim_version(void)
{
    return JIM_VERSION_STRING;
}

} // extern "C"
