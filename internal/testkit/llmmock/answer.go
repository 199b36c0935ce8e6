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
