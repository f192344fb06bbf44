import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OTPCore

/// One answer from a vendor, read in full (up to a bound), ready to classify.
struct ProviderHTTPResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    /// Empty when the body could not be read: the status alone still decides the outcome.
    var body: ByteBuffer

    var bodyData: Data { Data(body.readableBytesView) }

    /// The vendor's `Retry-After`, in seconds from now, capped.
    var retryAfterSeconds: Int? { HTTPProviderSupport.retryAfterSeconds(headers.first(name: "Retry-After")) }
}

/// What one HTTP exchange came to: an answer for the provider to read, or a failure already classified.
enum ProviderHTTPExchange: Sendable {
    case answered(ProviderHTTPResponse)
    case failed(ProviderResult)
}

/// Pieces every HTTP provider shares, so that all of them classify failures the same way.
enum HTTPProviderSupport {
    /// A vendor's answer to one send is small; anything bigger is not worth holding in memory.
    static let maxResponseBytes = 64 * 1024
    /// A `Retry-After` further out than this is treated as this: the code expires long before anyway.
    static let maxRetryAfterSeconds = 3600
    /// Vendor text kept in the attempt log is cut to this many characters.
    static let maxErrorMessageLength = 200

    /// What an HTTP status says about the send: 2xx taken, 408/425/429/5xx worth retrying, any other status final.
    static func outcome(forStatus status: Int) -> ProviderResult.Outcome {
        switch status {
        case 200..<300: return .accepted
        case 408, 425, 429: return .retryable
        case 500..<600: return .retryable
        default: return .permanent
        }
    }

    /// Reads `Retry-After` (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date turned into seconds from `now`.
    /// Returns nil when absent or unreadable; never negative; capped at ``maxRetryAfterSeconds``.
    static func retryAfterSeconds(_ value: String?, now: Date = Date()) -> Int? {
        guard let raw = value?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        if raw.utf8.allSatisfy({ (48...57).contains($0) }) {
            // All digits but too large for Int is still "a very long time".
            return min(Int(raw) ?? maxRetryAfterSeconds, maxRetryAfterSeconds)
        }
        for format in httpDateFormats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: raw) {
                let seconds = date.timeIntervalSince(now).rounded(.up)
                guard seconds > 0 else { return 0 }
                return seconds >= Double(maxRetryAfterSeconds) ? maxRetryAfterSeconds : Int(seconds)
            }
        }
        return nil
    }

    /// IMF-fixdate first (what senders must use), then the two obsolete forms receivers must still accept.
    private static let httpDateFormats = [
        "EEE, dd MMM yyyy HH:mm:ss zzz",
        "EEEE, dd-MMM-yy HH:mm:ss zzz",
        "EEE MMM d HH:mm:ss yyyy",
    ]

    /// Sends `request` with an overall deadline and reads at most ``maxResponseBytes`` of the answer.
    ///
    /// Never throws: a failure before any answer becomes a classified ``ProviderResult``. A timeout after the
    /// request went out may mean the vendor did take the message; it is still reported as retryable, and the
    /// vendor's idempotency key (where it has one) is what keeps the retry from sending a second copy.
    static func execute(
        _ request: HTTPClientRequest, on client: HTTPClient, timeout: Duration
    ) async -> ProviderHTTPExchange {
        guard isUsableURL(request.url) else {
            return .failed(
                ProviderResult(
                    outcome: .permanent, errorCode: "invalid_url",
                    errorMessage: "the provider URL is not a valid http or https URL"))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: TimeAmount(timeout))
        } catch {
            return .failed(classify(error, timeout: timeout))
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxResponseBytes)
        } catch {
            // The status line already says what happened; an oversized or cut-off body only loses detail.
            body = ByteBuffer()
        }
        return .answered(ProviderHTTPResponse(status: Int(response.status.code), headers: response.headers, body: body))
    }

    /// Turns an error thrown before any answer into a result. Messages are fixed text plus, at most, the
    /// error's type name: an error's own description can carry a URL or header values.
    static func classify(_ error: any Error, timeout: Duration) -> ProviderResult {
        if error is CancellationError {
            return retryable("cancelled", "the attempt was cancelled before the provider answered")
        }
        guard let error = error as? HTTPClientError else {
            // Connect refused, DNS, TLS, reset: the request most likely never reached the vendor.
            return retryable("network", "could not reach the provider (\(type(of: error)))")
        }
        if answerTimeouts.contains(error) {
            return retryable("timeout", "no answer within \(timeout); the message may have been delivered")
        }
        if connectTimeouts.contains(error) {
            return retryable("timeout", "could not connect to the provider within \(timeout)")
        }
        if error == .remoteConnectionClosed {
            return retryable("network", "the provider closed the connection before answering")
        }
        if error == .cancelled {
            return retryable("cancelled", "the attempt was cancelled before the provider answered")
        }
        if [HTTPClientError.invalidURL, .emptyHost, .emptyScheme].contains(error) {
            return ProviderResult(
                outcome: .permanent, errorCode: "invalid_url",
                errorMessage: "the provider URL is not a valid http or https URL")
        }
        return retryable("network", "HTTP client error talking to the provider")
    }

    /// Timeouts that can fire after the request was sent.
    private static let answerTimeouts: [HTTPClientError] = [.deadlineExceeded, .readTimeout, .writeTimeout]
    /// Timeouts before the request could be sent: the vendor never saw it.
    private static let connectTimeouts: [HTTPClientError] = [
        .connectTimeout, .tlsHandshakeTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout,
        .getConnectionFromPoolTimeout,
    ]

    private static func retryable(_ code: String, _ message: String) -> ProviderResult {
        ProviderResult(outcome: .retryable, errorCode: code, errorMessage: message)
    }

    private static func isUsableURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host else {
            return false
        }
        return (scheme == "http" || scheme == "https") && !host.isEmpty
    }

    /// Vendor text fit for the attempt log: one line, bounded, with every secret (the code, tokens) cut out.
    ///
    /// Vendors sometimes echo the request back in an error; this is the last guard that keeps the code and the
    /// credentials out of the database and the logs.
    static func safeMessage(_ text: String?, hiding secrets: [String]) -> String? {
        guard var text, !text.isEmpty else { return nil }
        for secret in secrets where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret, with: "[redacted]")
        }
        text = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        if text.count > maxErrorMessageLength {
            text = String(text.prefix(maxErrorMessageLength)) + "…"
        }
        return text
    }

    /// A configured base URL without its trailing slashes, so paths can be appended with one `/`.
    static func trimmedBase(_ url: String) -> String {
        var url = Substring(url)
        while url.hasSuffix("/") { url = url.dropLast() }
        return String(url)
    }

    /// A path segment made safe for a URL (IDs and versions are plain, but configuration is typed by people).
    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// `application/x-www-form-urlencoded`, escaping everything but RFC 3986 unreserved characters.
    static func formURLEncoded(_ fields: [(name: String, value: String)]) -> String {
        fields.map { "\(formEscape($0.name))=\(formEscape($0.value))" }.joined(separator: "&")
    }

    /// Built on each use: cheap, and it keeps a Foundation value type out of global state.
    private static var unreserved: CharacterSet {
        CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    }

    private static func formEscape(_ text: String) -> String {
        // Only lone UTF-16 surrogates make this nil, and a Swift String cannot hold one.
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
