/// The text of a verification message until per-app templates exist.
package enum MessageText {
    package static func verification(appName: String, code: String, ttlSeconds: Int) -> String {
        let minutes = max(1, ttlSeconds / 60)
        return "Your \(appName) verification code is \(code). It expires in \(minutes) minutes. Do not share it."
    }
}
