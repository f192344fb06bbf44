import HTTPTypes
import Hummingbird
import OTPHTTP

/// The (path, method) pairs the router serves, read from the router itself so that nothing keeps a
/// second list: 405 and its `Allow` header come from here, and a test compares it with the
/// OpenAPI document.
package struct RouteTable: Sendable {
    /// Path patterns split into segments; `{name}` matches any one segment.
    private let patterns: [(segments: [String], methods: [HTTPRequest.Method])]

    package let pairs: Set<String>

    package init(_ routes: [Router<OTPRequestContext>.RouteDescription]) {
        var byPath: [String: [HTTPRequest.Method]] = [:]
        for route in routes { byPath["\(route.path)", default: []].append(route.method) }
        patterns = byPath.sorted { $0.key < $1.key }.map { path, methods in
            (path.split(separator: "/").map(String.init), methods)
        }
        pairs = Set(routes.map { "\($0.method.rawValue) \($0.path)" })
    }

    /// The methods some route allows on `path`; empty when no route has that path.
    package func methods(forPath path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/").map(String.init)
        return patterns.filter { pattern in
            pattern.segments.count == segments.count
                && zip(pattern.segments, segments).allSatisfy { want, have in
                    (want.hasPrefix("{") && want.hasSuffix("}")) || want == have
                }
        }.flatMap(\.methods)
    }
}
