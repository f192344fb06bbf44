import Foundation
import OTPCore
import OTPTesting
import PostgresNIO
import Testing

/// The states SQL writes as literals ('pending', 'queued', ...) are held to the schema's CHECK
/// constraints, and this test holds those to the Swift enums: a state added on one side only fails
/// here, not in production.
@Suite struct SchemaEnumTests {
    @Test func everyCheckedColumnAllowsExactlyTheEnumsCases() async throws {
        let expected: [(table: String, column: String, values: Set<String>)] = [
            ("verifications", "status", Set(VerificationStatus.allCases.map(\.rawValue))),
            ("verifications", "channel", Set(MessageChannel.allCases.map(\.rawValue))),
            ("deliveries", "state", Set(DeliveryStatus.allCases.map(\.rawValue))),
            ("deliveries", "channel", Set(MessageChannel.allCases.map(\.rawValue))),
            ("delivery_attempts", "outcome", Set(ProviderResult.Outcome.allCases.map(\.rawValue))),
            ("apps", "default_channel", Set(MessageChannel.allCases.map(\.rawValue))),
            ("apps", "resend_policy", Set(AppPolicy.ResendPolicy.allCases.map(\.rawValue))),
            ("webhook_events", "type", Set(AppWebhookEvent.allCases.map(\.rawValue))),
        ]
        try await TestApp.with { world in
            for (table, column, values) in expected {
                let definitions = try await world.client.query(
                    """
                    SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
                    JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
                    WHERE n.nspname = 'otp' AND t.relname = \(table) AND c.contype = 'c'
                    """, logger: quietLogger)
                var allowed: Set<String>? = nil
                for try await definition in definitions.decode(String.self) {
                    // CHECK ((status = ANY (ARRAY['pending'::text, ...]))), for this column alone.
                    guard definition.contains("(\(column) = ANY (ARRAY["), !definition.contains(" OR ") else {
                        continue
                    }
                    allowed = Set(Self.quoted(in: definition))
                }
                #expect(allowed == values, "otp.\(table).\(column)")
            }
        }
    }

    /// The single-quoted literals of a constraint's text.
    static func quoted(in text: String) -> [String] {
        text.split(separator: "'", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }
            .map { String($0.element) }
    }
}
