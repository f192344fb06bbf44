import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import OTPAPI
import OTPCore
import OTPTesting
import Testing

/// Authentication, validation, error mapping and content types, over in-memory ports.
@Suite struct HTTPLogicTests {
    @Test func missingOrWrongCredentialsAnswer401WithTheChallenge() async throws {
        let world = try InMemoryWorld()
        let wrong = "Basic " + Data("\(world.keyID):not-the-secret".utf8).base64EncodedString()
        try await world.test { client in
            for headers: HTTPFields in [[:], [.authorization: wrong], [.authorization: "Bearer x.y.z"]] {
                let response = try await client.get(
                    "/otp/status?appid=\(world.app.id)&verification_id=otp_x", headers: headers)
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "UNAUTHORIZED")
                #expect(response.headers[.wwwAuthenticate]?.contains("Basic") == true)
            }
        }
    }

    @Test func aRevokedKeyIsRefusedAtOnce() async throws {
        let world = try InMemoryWorld()
        try await world.test { client in
            _ = try await world.send(client)
            world.directory.revokeKey(id: world.keyID)
            let response = try await client.post(
                "/otp/send", #"{"appid":"\#(world.app.id)","recipient":"+5511999887766"}"#, headers: world.auth)
            #expect(response.status == .unauthorized)
        }
    }

    @Test func anotherAccountsAppIsNotFoundAndAnUnlistedOneForbidden() async throws {
        let world = try InMemoryWorld()
        let foreign = world.directory.createApp(name: "Other", accountID: 2)
        let sibling = world.directory.createApp(name: "Sibling", accountID: 1)
        try await world.test { client in
            for (app, code) in [(foreign, "APP_NOT_FOUND"), (sibling, "APP_FORBIDDEN")] {
                let response = try await client.post(
                    "/otp/send", #"{"appid":"\#(app.id)","recipient":"+5511999887766"}"#, headers: world.auth)
                #expect(response.errorCode == code)
            }
            #expect(world.store.verifications.isEmpty)
        }
    }

    @Test func badBodiesAreNamedAndNothingIsStored() async throws {
        let world = try InMemoryWorld()
        let app = world.app.id
        let cases: [(body: String, code: String, field: String?)] = [
            ("{", "INVALID_JSON", nil), ("[]", "INVALID_JSON", nil),
            (#"{"appid":"\#(app)"}"#, "VALIDATION_ERROR", "recipient"),
            (#"{"appid":"\#(app)","recipient":"12345"}"#, "INVALID_RECIPIENT", "recipient"),
            (#"{"appid":"\#(app)","recipient":"+5511999887766\u0000"}"#, "VALIDATION_ERROR", "recipient"),
            (#"{"appid":"\#(app)","recipient":"+5511999887766","channel":"pigeon"}"#, "VALIDATION_ERROR", "channel"),
            (#"{"appid":"\#(app)","recipient":"+5511999887766","code_length":3}"#, "VALIDATION_ERROR", "code_length"),
        ]
        try await world.test { client in
            for (body, code, field) in cases {
                let response = try await client.post("/otp/send", body, headers: world.auth)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorCode == code, "\(body)")
                #expect(response.error["field"] as? String == field, "\(body)")
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            }
            let large = #"{"appid":"\#(app)","metadata":{"x":""# + String(repeating: "a", count: 70_000) + "\"}}"
            let tooLarge = try await client.post("/otp/send", large, headers: world.auth)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.errorCode == "PAYLOAD_TOO_LARGE")
        }
        #expect(world.store.verifications.isEmpty)
    }

    @Test func unknownRoutesAre404AndWrongMethods405WithAllow() async throws {
        let world = try InMemoryWorld()
        try await world.test { client in
            let unknown = try await client.get("/otp/nope", headers: world.auth)
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "NOT_FOUND")
            let wrong = try await client.execute(uri: "/otp/templates/tpl_1/preview", method: .get, headers: world.auth)
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.headers[.allow] == "POST")
            let status = try await client.execute(uri: "/otp/status", method: .delete, headers: world.auth)
            #expect(status.headers[.allow] == "GET")
        }
    }

    @Test func aForgedCursorIsAValidationError() async throws {
        let world = try InMemoryWorld()
        try await world.test { client in
            let response = try await client.get(
                "/otp/list?appid=\(world.app.id)&cursor=not-a-cursor", headers: world.auth)
            #expect(response.status == .badRequest)
            #expect(response.error["field"] as? String == "cursor")
        }
    }

    @Test func aDatabaseThatIsAwayAnswers503WithRetryAfter() async throws {
        let world = try InMemoryWorld()
        var dependencies = world.dependencies
        dependencies.service = VerificationService(
            store: FailingStore(error: StoreUnavailable(reason: "connection refused")), templates: world.templates,
            codes: world.codes, keys: world.keys, numbers: world.numbers)
        try await world.test(dependencies) { client in
            let response = try await client.post(
                "/otp/send", #"{"appid":"\#(world.app.id)","recipient":"+5511999887766"}"#, headers: world.auth)
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorCode == "UNAVAILABLE")
            #expect(response.headers[.retryAfter] == "5")
        }
    }

    @Test func anUnexpectedErrorIsA500WithARequestIDAndNothingInternal() async throws {
        let world = try InMemoryWorld()
        var dependencies = world.dependencies
        dependencies.service = VerificationService(
            store: FailingStore(error: SecretBearingError()), templates: world.templates, codes: world.codes,
            keys: world.keys, numbers: world.numbers)
        try await world.test(dependencies) { client in
            let response = try await client.post(
                "/otp/send", #"{"appid":"\#(world.app.id)","recipient":"+5511999887766"}"#, headers: world.auth)
            #expect(response.status == .internalServerError)
            #expect(response.errorCode == "INTERNAL")
            #expect((response.error["request_id"] as? String)?.isEmpty == false)
            #expect(!String(buffer: response.body).contains("hunter2"))
        }
    }
}

/// A store whose every call fails with `error`.
struct FailingStore: VerificationStore {
    let error: any Error & Sendable

    func send(
        _: NewVerification, idempotency: IdempotencyClaim?, charges: [RateLimitCharge], fraud: FraudCheck?,
        spend: SpendCharge?, actor: Caller
    ) async throws -> SendOutcome { throw error }

    func verify(
        verificationID: String, appID: String, actor: Caller, gate: RateLimitCharge?,
        onFailure: @escaping @Sendable (String) -> RateLimitCharge?,
        decide: @escaping @Sendable (VerifyContext) -> VerifyDecision
    ) async throws -> VerifyDecision? { throw error }

    func resend(
        verificationID: String, appID: String, actor: Caller,
        plan: @escaping @Sendable (ResendContext) throws -> ResendPlan
    ) async throws -> SendResult { throw error }

    func report(verificationID: String, appID: String) async throws -> VerificationReport? { throw error }

    func recordRefusal(_ refusal: Refusal, appID: String, verificationID: String?, actor: Caller) async {}

    func usage(of charges: [RateLimitCharge]) async throws -> [RateLimitStatus] { throw error }
}

struct SecretBearingError: Error, CustomStringConvertible {
    var description: String { "password=hunter2" }
}

@Suite struct HeadTests {
    /// The health checks answer HEAD with their GET's status and no body; other routes do not.
    @Test func theHealthChecksAnswerHead() async throws {
        let world = try InMemoryWorld()
        try await world.test { client in
            for path in ["/healthz", "/readyz"] {
                let response = try await client.execute(uri: path, method: .head)
                #expect(response.status == .ok, "\(path)")
                #expect(response.body.readableBytes == 0, "\(path)")
            }
            let list = try await client.execute(
                uri: "/otp/templates?appid=\(world.app.id)", method: .head, headers: world.auth)
            #expect(list.status == .methodNotAllowed)
            #expect(list.headers[.allow] == "GET, POST")
        }
    }
}

@Suite struct QueryBoundsTests {
    /// What the document bounds (numbers, times, lists of values) refuses an empty value; free text
    /// left empty is absent.
    @Test func anEmptyBoundedParameterIsRefusedAndEmptyFreeTextIsAbsent() async throws {
        let world = try InMemoryWorld()
        try await world.test { client in
            for (path, field) in [
                ("/otp/list?limit=", "limit"), ("/otp/list?status=", "status"), ("/otp/list?from=", "from"),
                ("/otp/reports?format=", "format"), ("/otp/reports?group_by=", "group_by"),
                ("/otp/attempts?kind=", "kind"), ("/otp/templates?limit=0", "limit"), ("/otp/logs?limit=1001", "limit"),
            ] {
                let response = try await client.get(path, headers: world.auth)
                #expect(response.status == .badRequest, "\(path)")
                #expect(response.error["field"] as? String == field, "\(path)")
            }
            let free = try await client.get("/otp/list?appid=&recipient=", headers: world.auth)
            #expect(free.status == .ok)
        }
    }
}
