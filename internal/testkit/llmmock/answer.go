package llmmock

import "strings"

// Answer is the mock's reply to a conversation whose last user message is
// lastUserMessage. Tests compare against it to prove the prompt made the round
// trip intact.
func Answer(lastUserMessage string) string {
	return "MOCK ANSWER: you said [" + lastUserMessage + "]"
}

// CountTokens is the mock's token counter: whitespace-separated words. Usage
// reports PromptTokens as the sum over all message contents and
// CompletionTokens as the count of the answer.
func CountTokens(text string) int {
	return len(strings.Fields(text))
}

// answerFor picks the last user turn, the one the mock "replies" to.
func answerFor(msgs []Message) string {
	if n := len(msgs); n > 0 && msgs[n-1].Role == "tool" {
		return ToolAnswer(msgs[n-1].Content)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return Answer(msgs[i].Content)
		}
	}
	return Answer("")
}

// AnswerRecalling is the reply of a mock started with Recall to a conversation whose user
// turns were userTurns, oldest first: Answer to the last one, followed by the first one when
// the model was sent earlier turns, which only memory can have supplied.
func AnswerRecalling(userTurns ...string) string {
	if len(userTurns) < 2 {
		last := ""
		if len(userTurns) == 1 {
			last = userTurns[0]
		}
		return Answer(last) + " (no earlier messages)"
	}
	return Answer(userTurns[len(userTurns)-1]) + " (you first said [" + userTurns[0] + "])"
}

// answer is the reply to msgs: answerFor's, or with Recall, AnswerRecalling's. A tool result
// is answered as ever, since the tool loop's tests compare it exactly.
func (s *Server) answer(msgs []Message) string {
	if !s.opts.Recall || len(msgs) > 0 && msgs[len(msgs)-1].Role == "tool" {
		return answerFor(msgs)
	}
	var turns []string
	for _, m := range msgs {
		if m.Role == "user" {
			turns = append(turns, m.Content)
		}
	}
	return AnswerRecalling(turns...)
}

func promptTokens(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += CountTokens(m.Content)
	}
	return n
}

// splitChunks cuts text into at most n pieces of near-equal rune length, so
// multi-byte characters are never split across stream chunks.
func splitChunks(text string, n int) []string {
	runes := []rune(text)
	n = min(n, len(runes))
	if n <= 0 {
		return []string{text}
	}
	pieces := make([]string, n)
	for i := range n {
		pieces[i] = string(runes[i*len(runes)/n : (i+1)*len(runes)/n])
	}
	return pieces
}
