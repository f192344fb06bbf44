/// A way to reach a recipient.
package enum MessageChannel: String, Sendable, Codable, CaseIterable, Hashable {
    case sms
    case whatsapp
}
