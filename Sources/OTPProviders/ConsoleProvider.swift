import Foundation
import OTPCore

/// Development provider: prints each message to standard output instead of sending it.
///
/// It prints the code on purpose (that is how a developer reads it); never configure it in production.
package struct ConsoleProvider: MessageProvider {
    package let name = "console"
    private let write: @Sendable (String) -> Void

    package init(write: @escaping @Sendable (String) -> Void = ConsoleProvider.standardOutput) {
        self.write = write
    }

    package func send(_ message: OutboundMessage) async -> ProviderResult {
        let sender = message.sender.map { " from \($0)" } ?? ""
        let text = message.voiceScript.map { $0.sentences.joined(separator: " ") } ?? message.body
        write("[console \(message.channel.rawValue) to \(message.recipient)\(sender)] \(text)\n")
        return .accepted(messageID: "console-\(message.deliveryID)")
    }

    package static let standardOutput: @Sendable (String) -> Void = { text in
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
