import Tracing

/// The current trace context as a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`), stored with
/// a delivery so that the worker's spans continue the request's trace in another process. Nil with
/// tracing off. Only `traceparent` is kept: `tracestate` is free text a caller sets.
enum TraceParent {
    static func current() -> String? {
        guard let context = ServiceContext.current else { return nil }
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &headers, using: DictionaryInjector())
        return headers["traceparent"]
    }

    private struct DictionaryInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
            carrier[key] = value
        }
    }
}
