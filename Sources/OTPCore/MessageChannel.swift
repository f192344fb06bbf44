/// A way to reach a recipient.
package enum MessageChannel: String, Sendable, Codable, CaseIterable, Hashable {
    case sms
    case whatsapp
    /// A phone call that reads the code out (for landlines, and as the last step of a fallback chain).
    case voice
}
