// Sends a code with the Swift client and verifies what you type back. With `otp dev` running, its
// demo.env holds the four settings:
//
//   set -a; . .otp/demo.env; set +a; swift run SendAndVerifyExample +14155550123
import Foundation
import OTPClient

let environment = ProcessInfo.processInfo.environment
guard let url = environment["OTP_URL"].flatMap(URL.init(string:)), let keyID = environment["KEY_ID"],
    let secret = environment["SECRET"], let appID = environment["APPID"],
    CommandLine.arguments.count == 2
else {
    print("usage: OTP_URL=... KEY_ID=... SECRET=... APPID=... SendAndVerifyExample +E164")
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
