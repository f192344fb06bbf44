/// A send request's fields as the client gave them.
package struct SendParameters: Sendable {
    package var recipient: String?
    package var channel: String?
    package var from: String?
    package var template: String?
    package var locale: String?
    package var codeLength: Int?
    package var expiresIn: Int?
    package var metadata: [String: String]?
    /// A payment the code confirms (PSD2 dynamic linking).
    package var transaction: TransactionInput? = nil

    package init(
        recipient: String?, channel: String?, from: String?, template: String?, locale: String?, codeLength: Int?,
        expiresIn: Int?, metadata: [String: String]?
    ) {
        self.recipient = recipient
        self.channel = channel
        self.from = from
        self.template = template
        self.locale = locale
        self.codeLength = codeLength
        self.expiresIn = expiresIn
        self.metadata = metadata
    }
}

/// A send request checked against the contract and the app's policy, defaults filled in.
package struct ValidatedSend: Sendable, Equatable {
    package var recipient: ParsedPhoneNumber
    package var channel: MessageChannel
    package var sender: String?
    package var locale: String?
    package var codeLength: Int
    package var ttlSeconds: Int
    package var metadata: [String: String]
    /// A use case name or a custom template id, checked when the message is chosen.
    package var template: String?
    package var transaction: Transaction? = nil
}

package enum SendValidation {
    package static func validate(_ parameters: SendParameters, policy: AppPolicy, numbers: any PhoneNumberParser)
        throws(OTPFailure) -> ValidatedSend
    {
        guard let recipientText = parameters.recipient else {
            throw .validation(field: "recipient", message: "recipient is required")
        }
        guard let recipient = numbers.parse(recipientText) else { throw .invalidRecipient }
        let channel = try channel(parameters.channel, policy: policy)
        try checkDestination(recipient, channel: channel, policy: policy)
        var sender = policy.senderName
        if let from = parameters.from {
            guard let normalised = SenderName.normalise(from) else {
                throw .validation(
                    field: "from", message: "from must be 1 to 11 letters, digits or spaces, or an E.164 number")
            }
            guard policy.allowsSender(normalised) else {
                throw .validation(
                    field: "from", message: "from must be the app's sender or one of its allowed senders")
            }
            sender = normalised
        }

        if let locale = parameters.locale, !isLocale(locale) {
            throw .validation(field: "locale", message: "locale must be a BCP 47 tag such as pt-BR")
        }
        let codeLength = parameters.codeLength ?? policy.codeLength
        guard AppPolicy.codeLengths.contains(codeLength) else {
            throw .validation(field: "code_length", message: "code_length must be 6 to 10")
        }
        let ttl = parameters.expiresIn ?? policy.ttlSeconds
        guard AppPolicy.ttlRange.contains(ttl) else {
            throw .validation(field: "expires_in", message: "expires_in must be 60 to 600 seconds")
        }
        let metadata = parameters.metadata ?? [:]
        guard metadata.count <= 10 else {
            throw .validation(field: "metadata", message: "metadata may have at most 10 keys")
        }
        for (key, value) in metadata where key.isEmpty || key.count > 128 || value.count > 128 {
            throw .validation(field: "metadata", message: "metadata keys and values must be 1 to 128 characters")
        }
        var validated = ValidatedSend(
            recipient: recipient, channel: channel, sender: sender, locale: parameters.locale, codeLength: codeLength,
            ttlSeconds: ttl, metadata: metadata, template: parameters.template)
        validated.transaction = try parameters.transaction?.validated()
        return validated
    }

    /// The app's country and line-type rules for `channel`.
    package static func checkDestination(_ recipient: ParsedPhoneNumber, channel: MessageChannel, policy: AppPolicy)
        throws(OTPFailure)
    {
        if let rule = policy.countries[channel], !rule.permits(recipient.region) {
            throw .countryNotAllowed(recipient.region)
        }
        if policy.refusedLineTypes[channel]?.contains(recipient.lineType) == true {
            throw .lineTypeRefused(recipient.lineType)
        }
    }

    /// The requested channel (or the app's default), refused when unknown or not allowed.
    package static func channel(_ text: String?, policy: AppPolicy) throws(OTPFailure) -> MessageChannel {
        guard let text else { return policy.defaultChannel }
        guard let channel = MessageChannel(rawValue: text) else {
            throw .validation(field: "channel", message: "channel must be sms or whatsapp")
        }
        guard policy.channels.contains(channel) else { throw .channelNotAllowed(channel) }
        return channel
    }

    /// `xx`, `xxx`, or that followed by `-` subtags of 2 to 8 letters or digits.
    package static func isLocale(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count <= 35, let language = parts.first, (2...3).contains(language.count),
            language.unicodeScalars.allSatisfy(isASCIILetter)
        else { return false }
        return parts.dropFirst().allSatisfy { subtag in
            (2...8).contains(subtag.count)
                && subtag.unicodeScalars.allSatisfy { isASCIILetter($0) || ("0"..."9").contains($0) }
        }
    }

    private static func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }
}

package enum CodeFormat {
    /// A submitted code: 6 to 10 ASCII digits.
    package static func isWellFormed(_ code: String) -> Bool {
        AppPolicy.codeLengths.contains(code.utf8.count) && code.utf8.allSatisfy { (48...57).contains($0) }
    }
}
