import Foundation

/// When to try a failed delivery again: exponential backoff with full jitter, honouring the vendor's
/// `Retry-After`, never past the code's expiry and never more than `maxAttempts` times.
package struct RetryPolicy: Sendable {
    package var baseDelay: Double
    package var maxDelay: Double
    package var maxAttempts: Int

    package init(baseDelay: Double = 0.5, maxDelay: Double = 30, maxAttempts: Int = 12) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// The time of the next try after `attempt` (1-based) failed, or nil to give up.
    package func nextAttempt(
        after attempt: Int, retryAfterSeconds: Int?, now: Date, expiresAt: Date,
        using rng: inout some RandomNumberGenerator
    ) -> Date? {
        guard attempt < maxAttempts else { return nil }
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(min(attempt - 1, 30))))
        var delay = Double.random(in: 0...ceiling, using: &rng)
        if let retryAfterSeconds { delay = max(delay, Double(min(retryAfterSeconds, 3600))) }
        let next = now.addingTimeInterval(delay)
        return next < expiresAt ? next : nil
    }
}
