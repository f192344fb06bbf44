// Plain C API over Google's libphonenumber (C++), for import into Swift.
//
// Everything here is C: no C++ types leak into this header, so Swift imports
// it without C++ interoperability. All functions are thread-safe and never
// let a C++ exception escape.

#ifndef CPHONENUMBER_H
#define CPHONENUMBER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Recommended capacity for the `e164` buffer. E.164 allows at most 15 digits,
/// so "+" + 15 digits + NUL = 17 bytes; 32 leaves headroom.
#define OTP_PHONE_E164_CAPACITY 32

/// Recommended capacity for the `region` buffer: 2-letter ISO 3166-1 code + NUL
/// is 3 bytes, but non-geographic numbers (+800, +808, +870, +881, +882, +883,
/// +888, +979) have the region "001", which needs 4 bytes.
#define OTP_PHONE_REGION_CAPACITY 4

/// Line type as reported by libphonenumber's GetNumberType.
typedef enum {
    OTP_LINE_UNKNOWN = 0,
    OTP_LINE_FIXED_LINE,
    OTP_LINE_MOBILE,
    /// NANP (+1: US, CA, ...) and a few other regions cannot tell fixed from mobile.
    OTP_LINE_FIXED_LINE_OR_MOBILE,
    OTP_LINE_TOLL_FREE,
    OTP_LINE_PREMIUM_RATE,
    OTP_LINE_SHARED_COST,
    OTP_LINE_VOIP,
    OTP_LINE_PERSONAL_NUMBER,
    OTP_LINE_PAGER,
    OTP_LINE_UAN,
    OTP_LINE_VOICEMAIL
} otp_line_type;

/// Parses `text` (UTF-8, NUL-terminated) and checks it with IsValidNumber.
///
/// `default_region` is an ISO 3166-1 alpha-2 code such as "US" (case-insensitive),
/// used when `text` is written in national format. Pass NULL, "" or "ZZ" when
/// `text` must start with "+" and the country calling code.
///
/// On success (return 1) it writes:
///   - `e164`: the E.164 form, e.g. "+14155552671", NUL-terminated
///     (capacity `e164_size`; OTP_PHONE_E164_CAPACITY is always enough);
///   - `region`: the region code, e.g. "US" (or "001" for non-geographic
///     numbers), NUL-terminated (capacity `region_size`; 3 fits every
///     geographic number, OTP_PHONE_REGION_CAPACITY fits all);
///   - `*line_type`: the line type.
/// Any of `e164`, `region`, `line_type` may be NULL when not wanted.
/// An extension ("+1 415 555 2671 ext. 12") is accepted and dropped from E.164.
///
/// Returns 0 when `text` is NULL, does not parse, is not a valid number, or a
/// non-NULL output buffer is too small. On 0, non-NULL buffers with a size > 0
/// hold "" and `*line_type` is OTP_LINE_UNKNOWN.
int otp_phone_parse(const char *text,
                    const char *default_region,
                    char *e164, size_t e164_size,
                    char *region, size_t region_size,
                    otp_line_type *line_type);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // CPHONENUMBER_H
