#include "hv_error.h"

const char *hv_strerror(int err)
{
    switch (err) {
    case HV_OK:
        return "success";
#define HV__ERRNO_CASE(name, msg)                                                 \
    case HV_E##name:                                                              \
        return msg;
        HV_ERRNO_MAP(HV__ERRNO_CASE)
#undef HV__ERRNO_CASE
    default:
        return "unknown error";
    }
}

const char *hv_err_name(int err)
{
    switch (err) {
    case HV_OK:
        return "HV_OK";
#define HV__ERRNO_NAME(name, msg)                                                 \
    case HV_E##name:                                                              \
        return "HV_E" #name;
        HV_ERRNO_MAP(HV__ERRNO_NAME)
#undef HV__ERRNO_NAME
    default:
        return "HV_E?";
    }
}
