// C shim over libphonenumber. See include/CPhoneNumber.h.

#include "CPhoneNumber.h"

#include <cstring>
#include <string>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

otp_line_type MapLineType(PhoneNumberUtil::PhoneNumberType type) {
    switch (type) {
    case PhoneNumberUtil::FIXED_LINE: return OTP_LINE_FIXED_LINE;
    case PhoneNumberUtil::MOBILE: return OTP_LINE_MOBILE;
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return OTP_LINE_FIXED_LINE_OR_MOBILE;
    case PhoneNumberUtil::TOLL_FREE: return OTP_LINE_TOLL_FREE;
    case PhoneNumberUtil::PREMIUM_RATE: return OTP_LINE_PREMIUM_RATE;
    case PhoneNumberUtil::SHARED_COST: return OTP_LINE_SHARED_COST;
    case PhoneNumberUtil::VOIP: return OTP_LINE_VOIP;
    case PhoneNumberUtil::PERSONAL_NUMBER: return OTP_LINE_PERSONAL_NUMBER;
    case PhoneNumberUtil::PAGER: return OTP_LINE_PAGER;
    case PhoneNumberUtil::UAN: return OTP_LINE_UAN;
    case PhoneNumberUtil::VOICEMAIL: return OTP_LINE_VOICEMAIL;
    default: return OTP_LINE_UNKNOWN;
    }
}

// Copies `value` with its NUL into `out`; false (and nothing written) if it does not fit.
bool CopyOut(const std::string &value, char *out, size_t out_size) {
    if (out == nullptr) return true;
    if (value.size() >= out_size) return false;
    std::memcpy(out, value.data(), value.size());
    out[value.size()] = '\0';
    return true;
}

void ClearOutputs(char *e164, size_t e164_size, char *region, size_t region_size,
                  otp_line_type *line_type) {
    if (e164 != nullptr && e164_size > 0) e164[0] = '\0';
    if (region != nullptr && region_size > 0) region[0] = '\0';
    if (line_type != nullptr) *line_type = OTP_LINE_UNKNOWN;
}

int Parse(const char *text, const char *default_region, char *e164, size_t e164_size,
          char *region, size_t region_size, otp_line_type *line_type) {
    if (text == nullptr) return 0;

    std::string region_hint = "ZZ";
    if (default_region != nullptr && default_region[0] != '\0') {
        region_hint = default_region;
        for (char &c : region_hint) {
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        }
    }

    const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    if (util.Parse(text, region_hint, &number) != PhoneNumberUtil::NO_PARSING_ERROR) return 0;
    if (!util.IsValidNumber(number)) return 0;

    std::string formatted;
    util.Format(number, PhoneNumberUtil::E164, &formatted);
    std::string region_code;
    util.GetRegionCodeForNumber(number, &region_code);
    if (formatted.empty() || region_code.empty()) return 0;

    if (!CopyOut(formatted, e164, e164_size)) return 0;
    if (!CopyOut(region_code, region, region_size)) return 0;
    if (line_type != nullptr) *line_type = MapLineType(util.GetNumberType(number));
    return 1;
}

} // namespace

extern "C" int otp_phone_parse(const char *text, const char *default_region, char *e164,
                               size_t e164_size, char *region, size_t region_size,
                               otp_line_type *line_type) {
    int ok = 0;
    try {
        ok = Parse(text, default_region, e164, e164_size, region, region_size, line_type);
    } catch (...) {
        ok = 0;
    }
    if (!ok) ClearOutputs(e164, e164_size, region, region_size, line_type);
    return ok;
}
