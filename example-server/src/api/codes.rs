//! The platform document's code table (seed 003, table 1), which the gateway's shared paths
//! answer with too, and the code each use-case error maps to.

use rbac_core::Error;

/// The stable numeric codes of the platform API (seed 003, table 1), with the messages as
/// the document spells them (`CODE_PHONENUMBER_EXIT` included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
#[allow(dead_code, clippy::enum_variant_names)] // the whole table, in the document's words
pub enum Code {
    /// Unknown error.
    Error = -1,
    /// Success.
    Ok = 0,
    /// Internal server error.
    Internal = 500,
    /// The caller lacks the privilege the action needs.
    AccessDeny = 1000,
    /// No, bad, expired or revoked token.
    Unauthorized = 1001,
    /// Wrong user name or password.
    InvalidUserOrPassword = 1002,
    /// A parameter has an invalid value.
    InvalidParams = 1003,
    /// Malformed JSON or a missing required field.
    InvalidJsonOrRequiredParams = 1004,
    /// The name (user, role, e-mail, …) exists already.
    AlreadyExist = 1005,
    /// No such user, role or record.
    NotFound = 1006,
    /// Wrong password (for example the old one on a change).
    InvalidPassword = 1007,
    /// Wrong or expired verification code.
    InvalidAuthCode = 1008,
    /// The action violates a rule (built-in admin, self-deletion, role in use, …).
    AccessViolate = 1009,
    /// The account is disabled.
    AccountBanned = 1012,
    /// The phone number exists already.
    PhoneNumberExist = 1016,
    /// The phone number is malformed.
    PhoneFormatWrong = 1017,
    /// The e-mail exists already (the gateway document uses 1018 for it).
    EmailAlreadyExist = 1018,
    /// Server error (overloaded or unavailable).
    ServerError = 1019,
    /// The grantor does not hold the privilege it tries to grant.
    NoPrivilege = 1021,
    /// Enabling or disabling failed.
    EditControlFailed = 1025,
    /// The e-mail address is malformed.
    EmailFormatWrong = 1027,
    /// Sending the e-mail failed.
    EmailSendFailed = 1029,
    /// The verification code expired.
    EmailCodeTimeout = 1030,
    /// No such e-mail address.
    EmailNotExist = 1031,
    /// Wrong verification code.
    EmailCodeError = 1032,
    /// Beyond the document: the password was right, a second factor must complete the
    /// login (`data.mfa_token`).
    SecondFactorRequired = 1033,
    /// Beyond the document: a role of the caller requires a second factor it has not
    /// enrolled.
    SecondFactorEnrolmentRequired = 1034,
}

impl Code {
    /// The numeric value put in `header.code`.
    pub fn value(self) -> i32 {
        self as i32
    }

    /// The symbolic message of the code table (`CODE_OK`, `CODE_UNAUTHORIZED`, …).
    pub fn message(self) -> &'static str {
        match self {
            Code::Error => "CODE_ERROR",
            Code::Ok => "CODE_OK",
            Code::Internal => "CODE_INTERNAL_SERVER_ERROR",
            Code::AccessDeny => "CODE_ACCESS_DENY",
            Code::Unauthorized => "CODE_UNAUTHORIZED",
            Code::InvalidUserOrPassword => "CODE_INVALID_USER_OR_PASSWORD",
            Code::InvalidParams => "CODE_INVALID_PARAMS",
            Code::InvalidJsonOrRequiredParams => "CODE_INVALID_JSON_OR_REQUIRED_PARAMS",
            Code::AlreadyExist => "CODE_ALREADY_EXIST",
            Code::NotFound => "CODE_NOT_FOUND",
            Code::InvalidPassword => "CODE_INVALID_PASSWORD",
            Code::InvalidAuthCode => "CODE_INVALID_AUTH_CODE",
            Code::AccessViolate => "CODE_ACCESS_VIOLATE",
            Code::AccountBanned => "CODE_ACCOUNT_BANNED",
            Code::PhoneNumberExist => "CODE_PHONENUMBER_EXIT",
            Code::PhoneFormatWrong => "CODE_PHONE_FORMAT_WRONG",
            Code::EmailAlreadyExist => "CODE_EMAIL_EXIT",
            Code::ServerError => "CODE_SERVER_ERROR",
            Code::NoPrivilege => "CODE_NO_PRIVILEGE",
            Code::EditControlFailed => "CODE_EDIT_CONTROL_FAILED",
            Code::EmailFormatWrong => "CODE_EMAIL_FORMAT_WRONG",
            Code::EmailSendFailed => "CODE_EMAIL_SEND_FAILED",
            Code::EmailCodeTimeout => "CODE_EMAIL_CODE_TIMEOUT",
            Code::EmailNotExist => "CODE_EMAIL_NOT_EXIT",
            Code::EmailCodeError => "CODE_EMAIL_CODE_ERROR",
            Code::SecondFactorRequired => "CODE_SECOND_FACTOR_REQUIRED",
            Code::SecondFactorEnrolmentRequired => "CODE_SECOND_FACTOR_ENROLMENT_REQUIRED",
        }
    }

    /// The code a use-case error answers with.
    pub fn of(e: &Error) -> Code {
        match e {
            Error::Unauthenticated(_) => Code::Unauthorized,
            Error::BadCredentials => Code::InvalidUserOrPassword,
            Error::AccountDisabled => Code::AccountBanned,
            Error::Forbidden { .. } => Code::AccessDeny,
            Error::InvalidParam { .. } | Error::UnknownPrivilege(_) => Code::InvalidParams,
            Error::BadRequest(_) => Code::InvalidJsonOrRequiredParams,
            Error::AlreadyExists(_) => Code::AlreadyExist,
            Error::NotFound(_) => Code::NotFound,
            Error::WrongPassword => Code::InvalidPassword,
            Error::Violation(_) => Code::AccessViolate,
            Error::NotGrantable(_) | Error::Outranked { .. } => Code::NoPrivilege,
            Error::Busy => Code::ServerError,
            Error::Throttled { .. } | Error::TooSoon { .. } | Error::LimitReached { .. } => {
                Code::AccessViolate
            }
            Error::CodeMismatch => Code::EmailCodeError,
            Error::BadSecondFactor => Code::InvalidAuthCode,
            Error::SecondFactorRequired(_) | Error::StepUpRequired { .. } => {
                Code::SecondFactorRequired
            }
            Error::EnrolmentRequired => Code::SecondFactorEnrolmentRequired,
            Error::NoSecretsKey => Code::ServerError,
            Error::CodeExpired => Code::EmailCodeTimeout,
            Error::SendFailed(_) => Code::EmailSendFailed,
            Error::Internal(_) => Code::Internal,
            _ => Code::Error,
        }
    }
}
