<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>ClassBars</name>
    <message numerus="yes">
        <source>&lt;b&gt;{0}&lt;/b&gt; · %n training image(s)</source>
        <translation>
            <numerusform>&lt;b&gt;{0}&lt;/b&gt; · %n training image</numerusform>
            <numerusform>&lt;b&gt;{0}&lt;/b&gt; · %n training images</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>InferencePanel</name>
    <message numerus="yes">
        <source>%n expert(s)</source>
        <translation>
            <numerusform>%n expert</numerusform>
            <numerusform>%n experts</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) predicted</source>
        <translation>
            <numerusform>%n image predicted</numerusform>
            <numerusform>%n images predicted</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>; %n could not be read (see Message)</source>
        <translation>
            <numerusform>; %n could not be read (see Message)</numerusform>
            <numerusform>; %n could not be read (see Message)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>RunsPanel</name>
    <message numerus="yes">
        <source>%n setting(s) differ between {0} and {1}</source>
        <translation>
            <numerusform>%n setting differs between {0} and {1}</numerusform>
            <numerusform>%n settings differ between {0} and {1}</numerusform>
        </translation>
    </message>
</context>
</TS>
