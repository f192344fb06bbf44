import Foundation
import OTPCore
import Tracing

/// The worker's spans of one delivery, in the trace of the request that queued it (its stored
/// `traceparent`), so that one trace runs from the API's request to the provider's answer across
/// processes: the queue wait (from due to claim), the delivery, and each provider call inside it.
/// A delivery queued with tracing off starts a trace of its own. The attributes are ids, names and
/// outcomes: never the recipient, the code, the text or a provider's error message (which can quote
/// the number).
enum DeliveryTracing {
    static func delivering(
        _ delivery: ClaimedDelivery, _ deliver: () async -> DeliveryOutcome
    ) async -> DeliveryOutcome {
        var parent = ServiceContext.topLevel
        if let traceParent = delivery.traceParent {
            InstrumentationSystem.instrument.extract(
                ["traceparent": traceParent], into: &parent, using: DictionaryExtractor())
        }
        if let due = delivery.dueAt {
            // Both ends on the database's clock.
            let wait = startSpan("otp.queue_wait", at: WallClock(due), context: parent, ofKind: .consumer)
            describe(delivery, on: wait)
            wait.end(at: WallClock(max(due, delivery.claimedAt)))
        }
        return await withSpan("otp.deliver", context: parent, ofKind: .consumer) { span in
            describe(delivery, on: span)
            let outcome = await deliver()
            span.attributes["otp.delivery.resolution"] = outcome.resolution.metricOutcome
            return outcome
        }
    }

    /// One call to a provider, as a client span with its outcome.
    static func calling(
        _ provider: any MessageProvider, _ message: OutboundMessage
    ) async -> ProviderResult {
        await withSpan("otp.provider_call", ofKind: .client) { span in
            span.attributes["otp.provider"] = provider.name
            span.attributes["otp.channel"] = message.channel.rawValue
            let result = await provider.send(message)
            span.attributes["otp.provider.outcome"] = result.outcome.rawValue
            span.attributes["http.response.status_code"] = result.httpStatus
            span.attributes["otp.provider.error_code"] = result.errorCode
            if result.outcome != .accepted { span.setStatus(SpanStatus(code: .error)) }
            return result
        }
    }

    private static func describe(_ delivery: ClaimedDelivery, on span: any Span) {
        span.attributes["otp.delivery.id"] = Int(delivery.id)
        span.attributes["otp.verification.id"] = delivery.verificationID
        span.attributes["otp.app.id"] = delivery.appID
        span.attributes["otp.channel"] = delivery.channel.rawValue
        span.attributes["otp.delivery.attempt"] = delivery.attempt
    }

    private struct DictionaryExtractor: Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }

    /// A `Date` as the tracer's instant.
    private struct WallClock: TracerInstant {
        var nanosecondsSinceEpoch: UInt64

        init(_ date: Date) { nanosecondsSinceEpoch = UInt64(max(0, date.timeIntervalSince1970) * 1_000_000_000) }

        static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch }
    }
}
