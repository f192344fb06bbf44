import Foundation
import Synchronization

/// The time the in-memory stores read, which a test moves by hand (the PostgreSQL stores read the
/// database's clock instead).
package final class TestClock: Sendable {
    private let current: Mutex<Date>

    package init(_ start: Date = Date()) { current = Mutex(start) }

    package var now: Date { current.withLock { $0 } }

    package func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }
}
