import Foundation
import HummingbirdTesting
import OTPCore
import OTPPostgres
import OTPProviders
import OTPTesting
import Testing

/// What messages cost: the rate card's estimate at the send, Twilio's billed price once Twilio
/// knows it (`otp prices`), reports' `cost`, and the daily spend cap.
@Suite struct CostTests {
    @Test func twiliosBilledPriceReplacesTheEstimateAndReachesTheReport() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            var world = world
            world.rateCard = try RateCard("sms:*=0.05")
            let priced = world
            try await withHTTPClient { http in
                try await FakeTwilio.run { twilio in
                    let provider = TwilioProvider(configuration: twilio.configuration(), httpClient: http)
                    let pricesEnvironment = [
                        "DATABASE_URL": priced.databaseURL, "OTP_SECRET_KEY": priced.secretKey,
                        "TWILIO_ACCOUNT_SID": twilio.accountSID, "TWILIO_AUTH_TOKEN": twilio.authToken,
                        "TWILIO_FROM": "+15005550006", "TWILIO_BASE_URL": twilio.baseURL,
                    ]
                    try await priced.test { client in
                        let id = try await priced.send(client, recipient: "+5511999870001")
                        try await runWorker(priced, provider: provider) {
                            try await waitUntil {
                                try await priced.status(client, id).json["delivery_status"] as? String == "sent"
                            }
                        }
                        let estimate: String = try await priced.scalar(
                            """
                            SELECT price::text || ' ' || price_currency || ' ' || price_source
                            FROM otp.delivery_attempts WHERE verification_id = \(id)
                            """)
                        #expect(estimate == "0.05 USD rate_card", "Twilio has no price at creation")
                        // Twilio prices a message once it is sent: the job asks a minute later.
                        try await priced.client.query(
                            "UPDATE otp.delivery_attempts SET at = at - interval '2 minutes' WHERE verification_id = \(id)",
                            logger: quietLogger)
                        let job = try SpawnedProcess.start(
                            ["prices", "--json"],
                            environment: pricesEnvironment)
                        #expect(await job.waitForExit(seconds: 60) == 0, "\(job.log)")
                        #expect(job.log.contains(#""priced":1"#), "\(job.log)")
                        #expect(twilio.fetches == 1)
                        let billed: String = try await priced.scalar(
                            """
                            SELECT price::text || ' ' || price_currency || ' ' || price_source
                            FROM otp.delivery_attempts WHERE verification_id = \(id)
                            """)
                        #expect(billed == "0.0079 USD provider")
                        let report = try await client.get(
                            "/otp/reports?appid=\(priced.app.id)&group_by=country", headers: priced.basicAuth)
                        let rows = try #require(report.json["items"] as? [[String: Any]])
                        #expect((rows.first?["cost"] as? Double).map { abs($0 - 0.0079) < 1e-9 } == true, "\(rows)")
                        // A second run finds nothing left to price.
                        let again = try SpawnedProcess.start(
                            ["prices", "--json"],
                            environment: pricesEnvironment)
                        #expect(await again.waitForExit(seconds: 60) == 0)
                        #expect(again.log.contains(#""looked":0"#), "\(again.log)")
                    }
                }
            }
        }
    }

    @Test func theSpendCapRefusesPastItsAmountUntilMidnightUTC() async throws {
        try await TestApp.with { world in
            var world = world
            world.rateCard = try RateCard("sms:BR=0.02")
            let capped = world
            let update = try SpawnedProcess.start(
                ["apps", "update", capped.app.id, "--spend-limit-1d", "0.05", "--json"],
                environment: ["DATABASE_URL": capped.databaseURL, "OTP_SECRET_KEY": capped.secretKey])
            #expect(await update.waitForExit(seconds: 60) == 0, "\(update.log)")
            #expect(update.log.contains(#""spend_limit_1d":"0.05""#), "\(update.log)")
            try await capped.test { client in
                var statuses: [Int] = []
                var retryAfter: Int?
                for n in 0..<3 {
                    capped.codes.push("123456")
                    let response = try await client.post(
                        "/otp/send", jsonBody(["appid": capped.app.id, "recipient": "+55119998700\(n)0"]),
                        headers: capped.basicAuth)
                    statuses.append(Int(response.status.code))
                    if response.status == .tooManyRequests {
                        #expect((response.json["error"] as? [String: Any])?["code"] as? String == "SPEND_LIMIT_REACHED")
                        retryAfter = response.headers[.retryAfter].flatMap(Int.init)
                    }
                }
                #expect(statuses == [202, 202, 429], "two sends of 0.02 fit under 0.05, the third does not")
                #expect((1...86_400).contains(retryAfter ?? 0), "until midnight UTC: \(String(describing: retryAfter))")
                let spent: String = try await capped.scalar(
                    "SELECT spent::text FROM otp.spend_daily WHERE app_id = \(capped.app.id)")
                #expect(Decimal(string: spent) == Decimal(string: "0.04"))
                // A destination the card has no price for is not estimated, so not capped.
                let portugal = try await client.post(
                    "/otp/send", jsonBody(["appid": capped.app.id, "recipient": "+351912345678"]),
                    headers: capped.basicAuth)
                #expect(portugal.status == .accepted)
            }
        }
    }
}
