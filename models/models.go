// Package models holds Flowgate's persistent entities with Flowise's table and column names, so a
// Flowise database can be taken over, and the store that reads and writes them through GORM.
package models

import "time"

// Chatflow types.
const (
	TypeChatflow  = "CHATFLOW"
	TypeAgentflow = "AGENTFLOW"
)

// ChatFlow is a saved flow. FlowData, ChatbotConfig and APIConfig are JSON strings, as in Flowise.
type ChatFlow struct {
	ID            string    `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	Name          string    `gorm:"column:name;not null" json:"name"`
	FlowData      string    `gorm:"column:flowData;type:text;not null" json:"flowData"`
	Deployed      *bool     `gorm:"column:deployed" json:"deployed,omitempty"`
	IsPublic      *bool     `gorm:"column:isPublic" json:"isPublic,omitempty"`
	APIKeyID      *string   `gorm:"column:apikeyid" json:"apikeyid,omitempty"`
	ChatbotConfig *string   `gorm:"column:chatbotConfig;type:text" json:"chatbotConfig,omitempty"`
	APIConfig     *string   `gorm:"column:apiConfig;type:text" json:"apiConfig,omitempty"`
	Analytic      *string   `gorm:"column:analytic;type:text" json:"analytic,omitempty"`
	Category      *string   `gorm:"column:category" json:"category,omitempty"`
	Type          string    `gorm:"column:type;not null;default:CHATFLOW" json:"type"`
	CreatedDate   time.Time `gorm:"column:createdDate;not null" json:"createdDate"`
	UpdatedDate   time.Time `gorm:"column:updatedDate;not null;index" json:"updatedDate"`
}

func (ChatFlow) TableName() string { return "chat_flow" }

// Message roles.
const (
	RoleAPI  = "apiMessage"
	RoleUser = "userMessage"
)

// ChatMessage is one user or assistant message of a conversation.
type ChatMessage struct {
	ID              string    `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	Role            string    `gorm:"column:role;not null" json:"role"`
	ChatflowID      string    `gorm:"column:chatflowid;not null;index:idx_chat_message_flow_session,priority:1;index:idx_chat_message_flow_chat,priority:1" json:"chatflowid"`
	ExecutionID     *string   `gorm:"column:executionId" json:"executionId,omitempty"`
	Content         string    `gorm:"column:content;type:text;not null" json:"content"`
	SourceDocuments *string   `gorm:"column:sourceDocuments;type:text" json:"sourceDocuments,omitempty"`
	UsedTools       *string   `gorm:"column:usedTools;type:text" json:"usedTools,omitempty"`
	FileUploads     *string   `gorm:"column:fileUploads;type:text" json:"fileUploads,omitempty"`
	AgentReasoning  *string   `gorm:"column:agentReasoning;type:text" json:"agentReasoning,omitempty"`
	Action          *string   `gorm:"column:action;type:text" json:"action,omitempty"`
	ChatType        string    `gorm:"column:chatType;not null;default:INTERNAL" json:"chatType"`
	ChatID          string    `gorm:"column:chatId;not null;index:idx_chat_message_flow_chat,priority:2" json:"chatId"`
	MemoryType      *string   `gorm:"column:memoryType" json:"memoryType,omitempty"`
	SessionID       *string   `gorm:"column:sessionId;index:idx_chat_message_flow_session,priority:2" json:"sessionId,omitempty"`
	CreatedDate     time.Time `gorm:"column:createdDate;not null" json:"createdDate"`
	LeadEmail       *string   `gorm:"column:leadEmail" json:"leadEmail,omitempty"`
}

func (ChatMessage) TableName() string { return "chat_message" }

// Credential is an encrypted set of provider secrets. EncryptedData is never sent to clients.
type Credential struct {
	ID             string `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	Name           string `gorm:"column:name;not null" json:"name"`
	CredentialName string `gorm:"column:credentialName;not null" json:"credentialName"`
	EncryptedData  string `gorm:"column:encryptedData;type:text;not null" json:"-"`
	// KeyID names the key that sealed EncryptedData (empty for rows Flowise wrote).
	KeyID       *string   `gorm:"column:keyId;type:varchar(32)" json:"-"`
	CreatedDate time.Time `gorm:"column:createdDate;not null" json:"createdDate"`
	UpdatedDate time.Time `gorm:"column:updatedDate;not null" json:"updatedDate"`
}

func (Credential) TableName() string { return "credential" }

// StreamEvent is one event of a streaming prediction, kept briefly so that an API process other
// than the worker's can read it, and a client that reconnects can resume after the last id it saw.
type StreamEvent struct {
	ID        int64     `gorm:"column:id;primaryKey;autoIncrement;index:idx_stream_event_topic_id,priority:2"`
	Topic     string    `gorm:"column:topic;type:varchar(64);not null;index:idx_stream_event_topic_id,priority:1"`
	Attempt   int32     `gorm:"column:attempt;not null;default:1"`
	Name      string    `gorm:"column:name;type:varchar(64);not null"`
	Data      string    `gorm:"column:data;type:text;not null"`
	CreatedAt time.Time `gorm:"column:created_at;not null;index"`
}

func (StreamEvent) TableName() string { return "flowgate_stream_event" }

// Variable types: a static value, or one read from the server's environment at prediction time.
const (
	VariableStatic  = "static"
	VariableRuntime = "runtime"
)

// Variable is a value flows use as {{$vars.<name>}}.
type Variable struct {
	ID          string    `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	Name        string    `gorm:"column:name;not null;uniqueIndex" json:"name"`
	Value       string    `gorm:"column:value;type:text" json:"value"`
	Type        string    `gorm:"column:type;not null;default:static" json:"type"`
	CreatedDate time.Time `gorm:"column:createdDate;not null" json:"createdDate"`
	UpdatedDate time.Time `gorm:"column:updatedDate;not null" json:"updatedDate"`
}

func (Variable) TableName() string { return "variable" }

// Execution is one agentflow run as Flowise records it: what each node got and gave, and
// whether the run finished or stopped for human input. Its id is the Temporal run id, the
// prediction's executionId.
type Execution struct {
	ID            string     `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	ExecutionData string     `gorm:"column:executionData;type:text;not null" json:"executionData"`
	State         string     `gorm:"column:state;not null" json:"state"`
	AgentflowID   string     `gorm:"column:agentflowId;not null;index:idx_execution_flow_session,priority:1" json:"agentflowId"`
	SessionID     string     `gorm:"column:sessionId;not null;index:idx_execution_flow_session,priority:2" json:"sessionId"`
	Action        *string    `gorm:"column:action;type:text" json:"action,omitempty"`
	IsPublic      bool       `gorm:"column:isPublic;not null;default:false" json:"isPublic"`
	CreatedDate   time.Time  `gorm:"column:createdDate;not null" json:"createdDate"`
	UpdatedDate   time.Time  `gorm:"column:updatedDate;not null" json:"updatedDate"`
	StoppedDate   *time.Time `gorm:"column:stoppedDate" json:"stoppedDate,omitempty"`
}

// TableName is Flowise's.
func (Execution) TableName() string { return "execution" }
