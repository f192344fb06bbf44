import OTPCore
import Synchronization

/// Remembers which providers keep failing. After `threshold` retryable failures in a row a provider
/// is skipped for `coolOff`; then one try decides whether it is back. Failures that are the
/// recipient's fault (permanent) say nothing about the provider and are not counted.
package final class CircuitBreaker: Sendable {
    struct Health {
        var consecutiveFailures = 0
        var openUntil: ContinuousClock.Instant?
    }

    let threshold: Int
    let coolOff: Duration
    private let health = Mutex<[String: Health]>([:])

    package init(threshold: Int = 5, coolOff: Duration = .seconds(30)) {
        self.threshold = threshold
        self.coolOff = coolOff
    }

    package func isAvailable(_ provider: String, now: ContinuousClock.Instant = .now) -> Bool {
        health.withLock { all in
            guard let openUntil = all[provider]?.openUntil else { return true }
            return now >= openUntil
        }
    }

    package func record(_ provider: String, outcome: ProviderResult.Outcome, now: ContinuousClock.Instant = .now) {
        health.withLock { all in
            var entry = all[provider] ?? Health()
            switch outcome {
            case .accepted:
                entry = Health()
            case .retryable:
                entry.consecutiveFailures += 1
                if entry.consecutiveFailures >= threshold { entry.openUntil = now.advanced(by: coolOff) }
            case .permanent:
                break
            }
            all[provider] = entry
        }
    }
}
