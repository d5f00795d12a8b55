#include "drivers/transport/telnet_codec.hpp"

#include <algorithm>

namespace derma::transport::telnet {

std::string verb_name(std::uint8_t verb) {
  switch (verb) {
    case kWill:
      return "WILL";
    case kWont:
      return "WONT";
    case kDo:
      return "DO";
    case kDont:
      return "DONT";
    case kSb:
      return "SB";
    case kSe:
      return "SE";
    default:
      return "command " + std::to_string(verb);
  }
}

std::string option_name(std::uint8_t option) {
  switch (option) {
    case kOptionBinary:
      return "BINARY";
    case kOptionEcho:
      return "ECHO";
    case kOptionSuppressGoAhead:
      return "SUPPRESS-GO-AHEAD";
    case kOptionComPort:
      return "COM-PORT-OPTION";
    default:
      return "option " + std::to_string(option);
  }
}

void escape_into(ByteView data, Bytes& out) {
  out.reserve(out.size() + data.size() + data.size() / 64 + 1);
  for (std::uint8_t byte : data) {
    out.push_back(byte);
    if (byte == kIac) out.push_back(kIac);
  }
}

Bytes negotiation(std::uint8_t verb, std::uint8_t option) {
  return {kIac, verb, option};
}

Bytes subnegotiation(std::uint8_t option, ByteView payload) {
  Bytes out{kIac, kSb, option};
  escape_into(payload, out);
  out.push_back(kIac);
  out.push_back(kSe);
  return out;
}

// ---- Decoder --------------------------------------------------------------------------------

void Decoder::feed(ByteView wire, Bytes& data, std::vector<Event>& events) {
  for (std::uint8_t byte : wire) {
    switch (state_) {
      case State::Data:
        if (byte == kIac)
          state_ = State::Iac;
        else
          data.push_back(byte);
        break;

      case State::Iac:
        state_ = State::Data;
        if (byte == kIac) {
          data.push_back(kIac);  // an escaped data byte
        } else if (byte == kWill || byte == kWont || byte == kDo || byte == kDont) {
          verb_ = byte;
          state_ = State::Verb;
        } else if (byte == kSb) {
          state_ = State::SbOption;
        } else if (byte < kSe) {
          ++protocol_errors_;  // not a command at all: drop the pair
        }
        // SE outside a subnegotiation, NOP, DM, BRK, IP, AO, AYT, EC, EL, GA: nothing to do
        // for a byte pipe.
        break;

      case State::Verb:
        events.emplace_back(Negotiation{verb_, byte});
        state_ = State::Data;
        break;

      case State::SbOption:
        sub_ = Subnegotiation{byte, {}};
        sub_overflow_ = false;
        state_ = State::SbData;
        break;

      case State::SbData:
        if (byte == kIac) {
          state_ = State::SbIac;
        } else if (sub_.payload.size() < kMaxSubnegotiationBytes) {
          sub_.payload.push_back(byte);
        } else {
          sub_overflow_ = true;
        }
        break;

      case State::SbIac:
        if (byte == kIac) {  // an escaped 0xFF inside the subnegotiation
          if (sub_.payload.size() < kMaxSubnegotiationBytes)
            sub_.payload.push_back(kIac);
          else
            sub_overflow_ = true;
          state_ = State::SbData;
        } else if (byte == kSe) {
          if (sub_overflow_)
            ++protocol_errors_;
          else
            events.emplace_back(std::move(sub_));
          sub_ = {};
          state_ = State::Data;
        } else {
          // RFC 855 says IAC SE ends every subnegotiation; a peer that starts another command
          // instead left this one unterminated. Drop it and read the command.
          ++protocol_errors_;
          sub_ = {};
          state_ = State::Iac;
          const std::uint8_t again[] = {byte};
          feed(again, data, events);
        }
        break;
    }
  }
}

// ---- OptionNegotiator -----------------------------------------------------------------------

OptionNegotiator::OptionNegotiator(std::vector<std::uint8_t> wanted_local,
                                   std::vector<std::uint8_t> wanted_remote)
    : wanted_local_(std::move(wanted_local)), wanted_remote_(std::move(wanted_remote)) {}

bool OptionNegotiator::wants_local(std::uint8_t option) const {
  return std::find(wanted_local_.begin(), wanted_local_.end(), option) != wanted_local_.end();
}

bool OptionNegotiator::wants_remote(std::uint8_t option) const {
  return std::find(wanted_remote_.begin(), wanted_remote_.end(), option) != wanted_remote_.end();
}

Bytes OptionNegotiator::request_wanted() {
  Bytes out;
  const auto ask = [&out](std::array<Q, 256>& states, std::uint8_t verb, std::uint8_t option) {
    if (states[option] != Q::No) return;  // on already, or asked already
    states[option] = Q::WantYes;
    const Bytes request = negotiation(verb, option);
    out.insert(out.end(), request.begin(), request.end());
  };
  for (std::uint8_t option : wanted_local_) ask(local_, kWill, option);
  for (std::uint8_t option : wanted_remote_) ask(remote_, kDo, option);
  return out;
}

// RFC 1143 section 7, without the queue bit (we never change our mind mid-negotiation).
// `enable`: the peer's WILL (for its options) or DO (for ours); else WONT / DONT.
Bytes OptionNegotiator::on_negotiation(const Negotiation& n) {
  const bool about_remote = n.verb == kWill || n.verb == kWont;
  const bool enable = n.verb == kWill || n.verb == kDo;
  std::array<Q, 256>& states = about_remote ? remote_ : local_;
  std::array<bool, 256>& refused = about_remote ? remote_refused_ : local_refused_;
  const bool wanted = about_remote ? wants_remote(n.option) : wants_local(n.option);
  const std::uint8_t yes = about_remote ? kDo : kWill;
  const std::uint8_t no = about_remote ? kDont : kWont;
  Q& state = states[n.option];

  if (enable) {
    switch (state) {
      case Q::No:
        if (!wanted) return negotiation(no, n.option);  // refuse; the state stays No
        state = Q::Yes;
        return negotiation(yes, n.option);
      case Q::Yes:
        return {};     // already on: an acknowledgement is never answered
      case Q::WantNo:  // our "off" answered by "on": an error by the peer; settle on off
        state = Q::No;
        return {};
      case Q::WantYes:  // our request granted
        state = Q::Yes;
        return {};
    }
  } else {
    switch (state) {
      case Q::No:
        return {};
      case Q::Yes:  // the peer turns it off: agree (turning off may never be refused)
        state = Q::No;
        return negotiation(no, n.option);
      case Q::WantNo:
        state = Q::No;
        return {};
      case Q::WantYes:  // our request refused
        state = Q::No;
        refused[n.option] = true;
        return {};
    }
  }
  return {};
}

}  // namespace derma::transport::telnet
