/// A way to reach a recipient.
public enum Channel: String, Sendable, Codable, CaseIterable, Hashable {
    case sms
    case whatsapp
}
