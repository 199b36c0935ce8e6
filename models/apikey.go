package models

import "time"

// APIKey is an API key for the prediction and management API. Unlike Flowise, the plaintext key is
// never stored: KeyPrefix (its first characters) finds the row and APISecret, Flowise's
// "hex(scrypt(key, salt)).salt" string, proves the key. The secret is never sent to clients.
type APIKey struct {
	ID          string    `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	KeyName     string    `gorm:"column:keyName;not null" json:"keyName"`
	Prefix      string    `gorm:"column:keyPrefix;type:varchar(16);not null;index" json:"keyPrefix"`
	APISecret   string    `gorm:"column:apiSecret;type:text;not null" json:"-"`
	CreatedDate time.Time `gorm:"column:createdDate;not null" json:"createdDate"`
	UpdatedDate time.Time `gorm:"column:updatedDate;not null" json:"updatedDate"`
}

func (APIKey) TableName() string { return "apikey" }
