import OTPCore
import Synchronization

/// Codes the tests know in advance: each call takes the next one, or a random one when the list is empty.
package final class ScriptedCodes: CodeGenerator {
    private let queue: Mutex<[String]>

    package init(_ codes: [String] = []) { queue = Mutex(codes) }

    package func push(_ code: String) { queue.withLock { $0.append(code) } }

    package func makeCode(length: Int) -> String {
        queue.withLock { $0.isEmpty ? nil : $0.removeFirst() } ?? RandomCodeGenerator().makeCode(length: length)
    }
}
