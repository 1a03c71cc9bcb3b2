// The C API of the stream framer (jim/framer.h) over jim::Framer.
#include "framer.hh"
#include "guard.hh"
#include "log.hh"
#include "message.hh"

extern "C" {

JIM_EXTERN(int) jim_framer_new(jim_framer **out, const jim_limits *limits)
{
    if (!out)
        return JIM_EINVAL;
    *out = nullptr;
    return jim::api_guard([&] {
        *out = new jim_framer(jim::limits_or_default(limits));
        return JIM_OK;
    });
}

JIM_EXTERN(void) jim_framer_free(jim_framer *framer)
{
    delete framer;
}

JIM_EXTERN(int) jim_framer_feed(jim_framer *framer, const void *data, size_t len)
{
    JIM_TRACE_SCOPE("framer", "len=%zu", len);
    if (!framer || (!data && len))
        return JIM_EINVAL;
    return jim::api_guard([&] { return framer->impl.feed(data, len); });
}

JIM_EXTERN(int) jim_framer_reserve(jim_framer *framer, size_t want, void **buf, size_t *cap)
{
    if (!framer || !buf || !cap)
        return JIM_EINVAL;
    return jim::api_guard([&] { return framer->impl.reserve(want, buf, cap); });
}

JIM_EXTERN(int) jim_framer_commit(jim_framer *framer, size_t len)
{
    if (!framer)
        return JIM_EINVAL;
    return framer->impl.commit(len);
}

JIM_EXTERN(int) jim_framer_next(jim_framer *framer, const char **obj, size_t *len)
{
    if (!framer || !obj || !len)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        std::string_view v;
        int rc = framer->impl.next(&v);
        if (rc == JIM_OK) {
            *obj = v.data();
            *len = v.size();
        }
        return rc;
    });
}

JIM_EXTERN(int) jim_framer_next_msg(jim_framer *framer, jim_msg *msg)
{
    if (!framer || !msg)
        return JIM_EINVAL;
    return jim::api_guard([&] { return framer->impl.next_msg(msg->impl); });
}

JIM_EXTERN(int) jim_framer_can_continue(const jim_framer *framer)
{
    return framer && framer->impl.can_continue();
}

JIM_EXTERN(const char *) jim_framer_errmsg(const jim_framer *framer)
{
    return framer ? framer->impl.error().c_str() : "";
}

JIM_EXTERN(size_t) jim_framer_buffered(const jim_framer *framer)
{
    return framer ? framer->impl.buffered() : 0;
}

JIM_EXTERN(int) jim_framer_release(jim_framer *framer)
{
    if (!framer)
        return JIM_EINVAL;
    return framer->impl.release() ? JIM_OK : JIM_EAGAIN;
}

} // extern "C"
