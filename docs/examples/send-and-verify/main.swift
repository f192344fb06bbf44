// Sends a code with the Swift client and verifies what you type back.
//
//   OTP_URL=http://127.0.0.1:8080 OTP_KEY_ID=ak_... OTP_SECRET=... OTP_APPID=app_... \
//       swift run SendAndVerifyExample +5511987654321
import Foundation
import OTPClient

let environment = ProcessInfo.processInfo.environment
guard let url = environment["OTP_URL"].flatMap(URL.init(string:)), let keyID = environment["OTP_KEY_ID"],
    let secret = environment["OTP_SECRET"], let appID = environment["OTP_APPID"],
    CommandLine.arguments.count == 2
else {
    print("usage: OTP_URL=... OTP_KEY_ID=... OTP_SECRET=... OTP_APPID=... SendAndVerifyExample +E164")
    exit(2)
}

let otp = OTPService(serverURL: url, credentials: .basic(keyID: keyID, secret: secret))
do {
    let sent = try await otp.send(appID: appID, to: CommandLine.arguments[1])
    print("sent \(sent.verificationId), expires at \(sent.expiresAt); the code:", terminator: " ")
    let code = readLine() ?? ""
    let result = try await otp.verify(appID: appID, verificationID: sent.verificationId, code: code)
    print(result.verified ? "verified" : "not verified: \(result.code.rawValue)")
    exit(result.verified ? 0 : 1)
} catch let error as OTPServiceError {
    print("refused: \(error)")
    exit(1)
}
