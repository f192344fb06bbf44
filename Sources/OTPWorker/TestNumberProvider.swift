import OTPCore

/// Where messages to an app's test numbers go: nowhere. The delivery is marked sent by provider
/// `test`, as every other step of the verification behaves as for any number.
struct TestNumberProvider: MessageProvider {
    let name = "test"

    func send(_ message: OutboundMessage) async -> ProviderResult {
        .accepted(messageID: "test-\(message.deliveryID)")
    }
}
