package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Feedback ratings, Flowise's ChatMessageRatingType values.
const (
	RatingThumbsUp   = "THUMBS_UP"
	RatingThumbsDown = "THUMBS_DOWN"
)

// ChatMessageFeedback is a rating of one answer, and optionally why: what the chat widget's
// thumbs send. A message has at most one.
type ChatMessageFeedback struct {
	ID          string    `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	ChatflowID  string    `gorm:"column:chatflowid;type:varchar(36);not null;index" json:"chatflowid"`
	ChatID      string    `gorm:"column:chatId;not null;index" json:"chatId"`
	MessageID   string    `gorm:"column:messageId;type:varchar(36);not null;uniqueIndex" json:"messageId"`
	Rating      string    `gorm:"column:rating;not null" json:"rating"`
	Content     *string   `gorm:"column:content;type:text" json:"content"`
	CreatedDate time.Time `gorm:"column:createdDate;not null" json:"createdDate"`
}

// TableName is Flowise's.
func (ChatMessageFeedback) TableName() string { return "chat_message_feedback" }

// Lead is the contact a chat's visitor left in the widget's lead form.
type Lead struct {
	ID          string    `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	ChatflowID  string    `gorm:"column:chatflowid;type:varchar(36);not null;index" json:"chatflowid"`
	ChatID      string    `gorm:"column:chatId;not null" json:"chatId"`
	Name        *string   `gorm:"column:name;type:text" json:"name"`
	Email       *string   `gorm:"column:email;type:text" json:"email"`
	Phone       *string   `gorm:"column:phone;type:text" json:"phone"`
	CreatedDate time.Time `gorm:"column:createdDate;not null" json:"createdDate"`
}

// TableName is Flowise's.
func (Lead) TableName() string { return "lead" }

// GetMessage loads one chat message.
func (s *Store) GetMessage(ctx context.Context, id string) (*ChatMessage, error) {
	return getByID[ChatMessage](ctx, s, id, "chat message")
}

// CreateFeedback stores a message's feedback; its date is set here. A message that already
// has feedback is a ConflictError.
func (s *Store) CreateFeedback(ctx context.Context, f *ChatMessageFeedback) error {
	db, done := s.with(ctx)
	defer done()
	f.CreatedDate = time.Now().UTC()
	if err := db.Create(f).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create feedback %s: %w", f.ID, &ConflictError{What: "feedback for message", Value: f.MessageID})
		}
		return fmt.Errorf("create feedback %s: %w", f.ID, err)
	}
	return nil
}

// GetFeedback loads one feedback.
func (s *Store) GetFeedback(ctx context.Context, id string) (*ChatMessageFeedback, error) {
	return getByID[ChatMessageFeedback](ctx, s, id, "feedback")
}

// UpdateFeedback saves a feedback's rating and content.
func (s *Store) UpdateFeedback(ctx context.Context, f *ChatMessageFeedback) error {
	db, done := s.with(ctx)
	defer done()
	res := db.Model(&ChatMessageFeedback{}).Where("id = ?", f.ID).
		Updates(map[string]any{"rating": f.Rating, "content": f.Content})
	if res.Error != nil {
		return fmt.Errorf("update feedback %s: %w", f.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("feedback %s: %w", f.ID, ErrNotFound)
	}
	return nil
}

// FeedbackFilter selects the feedback of one chatflow; zero fields do not filter.
type FeedbackFilter struct {
	ChatflowID string
	ChatID     string
	Start, End *time.Time
	Descending bool
}

// ListFeedback returns the feedback f selects, oldest first unless f.Descending.
func (s *Store) ListFeedback(ctx context.Context, f FeedbackFilter) ([]ChatMessageFeedback, error) {
	db, done := s.with(ctx)
	defer done()
	q := db.Where("chatflowid = ?", f.ChatflowID)
	if f.ChatID != "" {
		q = q.Where(`"chatId" = ?`, f.ChatID)
	}
	q = createdBetween(q, f.Start, f.End)
	order := `"createdDate" ASC`
	if f.Descending {
		order = `"createdDate" DESC`
	}
	out := []ChatMessageFeedback{}
	if err := q.Order(order).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list feedback of chatflow %s: %w", f.ChatflowID, err)
	}
	return out, nil
}

// createdBetween keeps the rows created from start to end, each bound optional.
func createdBetween(q *gorm.DB, start, end *time.Time) *gorm.DB {
	if start != nil {
		q = q.Where(`"createdDate" >= ?`, *start)
	}
	if end != nil {
		q = q.Where(`"createdDate" <= ?`, *end)
	}
	return q
}

// CreateLead stores a lead; its date is set here.
func (s *Store) CreateLead(ctx context.Context, l *Lead) error {
	db, done := s.with(ctx)
	defer done()
	l.CreatedDate = time.Now().UTC()
	if err := db.Create(l).Error; err != nil {
		return fmt.Errorf("create lead: %w", err)
	}
	return nil
}

// ListLeads returns a chatflow's leads, oldest first.
func (s *Store) ListLeads(ctx context.Context, chatflowID string) ([]Lead, error) {
	db, done := s.with(ctx)
	defer done()
	out := []Lead{}
	if err := db.Where("chatflowid = ?", chatflowID).Order(`"createdDate" ASC`).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list leads of chatflow %s: %w", chatflowID, err)
	}
	return out, nil
}
